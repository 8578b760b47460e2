import Foundation
import Testing
import TaskerCore
import TaskerPostgres
import TaskerServices
import TaskerTestSupport

/// Runs workers as separate OS processes (the `tasker` binary) to test crashes.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ProcessTests {
    static let binary = packageRoot.appendingPathComponent(".build/debug/tasker")

    func launchWorker(_ harness: PipelineHarness) throws -> Process {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["worker", "--log-level", "warning"]
        var environment = ProcessInfo.processInfo.environment
        environment["TASKER_TOPOLOGY_PREFIX"] = harness.topology.prefix
        environment["TASKER_NAMESPACES"] = harness.namespace
        environment["TASKER_CONCURRENCY"] = "2"
        process.environment = environment
        try process.run()
        return process
    }

    @Test func workerKilledMidStepIsReplacedAndTheStepRunsAgain() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the tasker binary first (swift build)")
        var options = PipelineHarness.Options()
        options.runWorkers = false
        try await PipelineHarness.run(options: options) { harness in
            let first = try launchWorker(harness)
            let reply = try await harness.submit(
                "linear", context: ["even_number": 2, "sleep_ms": ["step_2": 4_000], "run": .string(UUID().uuidString)])
            let taskID = try #require(reply.taskID)
            _ = try await harness.waitUntil(taskID) { $0.step(named: "step_2")?.state == .inProgress }
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            #expect(first.terminationReason == .uncaughtSignal)

            let second = try launchWorker(harness)
            let detail = try await harness.waitForTask(taskID, timeout: .seconds(60))
            #expect(detail.task.state == .complete)
            let step = try #require(detail.step(named: "step_2"))
            let trail = try #require(detail.stepTransitions[step.id])
            #expect(trail.map(\.toState) == ["pending", "enqueued", "in_progress", "complete"])
            let startedBy = trail[2].metadata["worker_id"]?.stringValue
            let completedBy = trail[3].metadata["worker_id"]?.stringValue
            #expect(startedBy != nil && completedBy != nil && startedBy != completedBy, "step re-run on the replacement worker")
            #expect(detail.step(named: "step_4")?.results?["value"] == .int(65_536))

            // SIGTERM drains and exits cleanly.
            second.terminate()
            second.waitUntilExit()
            #expect(second.terminationReason == .exit && second.terminationStatus == 0)
        }
    }
}
