import Foundation
import Testing
import TaskerCore
import TaskerPostgres
import TaskerServices

@Suite(.serialized, .timeLimit(.minutes(4))) struct ConcurrencyTests {
    @Test func twoFinalizersAndThreeWorkersRun200DiamondsWithEachJoinExactlyOnce() async throws {
        var options = PipelineHarness.Options()
        options.finalizers = 2
        options.workers = 3
        options.workerConcurrency = 8
        try await PipelineHarness.run(options: options) { harness in
            let run = UUID().uuidString
            let requests = (0..<200).map { index in
                TaskRequest(namespace: harness.namespace, name: "diamond", context: ["even_number": .int(Int64(2 + 2 * index)), "run": .string(run)])
            }
            let replies = try await harness.submitAll(requests)
            #expect(replies.allSatisfy { $0.status == .created })
            for (index, reply) in replies.enumerated() {
                let detail = try await harness.waitForTask(try #require(reply.taskID), timeout: .seconds(120))
                #expect(detail.task.state == .complete)
                let end = try #require(detail.step(named: "end"))
                let trail = detail.stepTransitions[end.id] ?? []
                #expect(trail.map(\.toState) == ["pending", "enqueued", "in_progress", "complete"], "task \(index)")
                var x = Int64(2 + 2 * index)
                for _ in 0..<4 { x = (x * x) % ExpectedResults.prime }
                #expect(end.results?["value"]?.intValue == x)
            }
        }
    }
}
