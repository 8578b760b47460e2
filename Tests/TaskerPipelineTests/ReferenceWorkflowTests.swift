import Foundation
import Testing
import TaskerCore
import TaskerPostgres
import TaskerServices
import TaskerTestSupport

@Suite(.serialized, .timeLimit(.minutes(3))) struct ReferenceWorkflowTests {
    @Test func allFiveReferenceWorkflowsCompleteWithExpectedResultsAndCleanAuditTrails() async throws {
        try await PipelineHarness.run { harness in
            let names = ["linear", "diamond", "tree", "mixed_dag", "api_integration"]
            var replies: [String: TaskRequestReply] = [:]
            for name in names {
                replies[name] = try await harness.submit(name, context: ["even_number": 2, "cart_id": 3, "run": .string(UUID().uuidString)])
                #expect(replies[name]?.status == .created, "\(name): \(replies[name]?.errors ?? [])")
            }
            let directory = packageRoot.appendingPathComponent("templates/examples")
            for name in names {
                let detail = try await harness.waitForTask(try #require(replies[name]?.taskID))
                #expect(detail.task.state == .complete, "\(name) ended \(detail.task.state)")
                let template = try TemplateLoader().load(contentsOf: directory.appendingPathComponent("\(name).yaml"))
                let expected = ExpectedResults.values(for: template) { step in
                    step.handlerConfig["input_key"]?.stringValue == "cart_id" ? 3 : 2
                }
                for step in detail.steps {
                    #expect(step.results?["value"]?.intValue == expected[step.name], "\(name).\(step.name)")
                    #expect(step.attempts == 1)
                    let trail = detail.stepTransitions[step.id] ?? []
                    #expect(trail.map(\.toState) == ["pending", "enqueued", "in_progress", "complete"], "\(name).\(step.name)")
                    #expect(trail.map(\.sortKey) == [1, 2, 3, 4])
                }
                #expect(detail.taskTransitions.map(\.toState) == ["pending", "in_progress", "complete"])
            }
            // linear and diamond are x^16: 2^16 = 65536.
            let linear = try await harness.store.fetchTask(try #require(replies["linear"]?.taskID))
            #expect(linear.step(named: "step_4")?.results?["value"] == .int(65_536))
        }
    }
}
