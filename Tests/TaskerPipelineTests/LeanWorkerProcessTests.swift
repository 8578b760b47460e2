import Foundation
import Testing
import TaskerCore
import TaskerPostgres
import TaskerTestSupport

/// The lean worker executable (`tasker-worker`, docs/worker.md) as the only worker of a pipeline.
@Suite(.serialized, .timeLimit(.minutes(3))) struct LeanWorkerProcessTests {
    static let binary = packageRoot.appendingPathComponent(".build/debug/tasker-worker")

    func launch(_ arguments: [String], prefix: String, namespace: String, errors: Pipe? = nil) throws -> Process {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments + ["--log-level", "warning"]
        var environment = ProcessInfo.processInfo.environment
        environment["TASKER_TOPOLOGY_PREFIX"] = prefix
        environment["TASKER_NAMESPACES"] = namespace
        process.environment = environment
        if let errors { process.standardError = errors }
        try process.run()
        return process
    }

    @Test func runsTheReferenceWorkflowAndDrainsOnSIGTERM() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the tasker-worker binary first (swift build)")
        var options = PipelineHarness.Options()
        options.runWorkers = false
        try await PipelineHarness.run(options: options) { harness in
            let worker = try launch([], prefix: harness.topology.prefix, namespace: harness.namespace)
            let reply = try await harness.submit("linear", context: ["even_number": 2, "run": .string(UUID().uuidString)])
            let detail = try await harness.waitForTask(try #require(reply.taskID), timeout: .seconds(60))
            #expect(detail.task.state == .complete)
            #expect(detail.step(named: "step_4")?.results?["value"] == .int(65_536))

            worker.terminate()
            worker.waitUntilExit()
            #expect(worker.terminationReason == .exit && worker.terminationStatus == 0)
        }
    }

    @Test func refusesTheTemplateStoreFlagsItHasNoStoreFor() throws {
        let errors = Pipe()
        let worker = try launch(["--register-templates"], prefix: "lean-\(UUID().uuidString.prefix(8))", namespace: "examples", errors: errors)
        worker.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(worker.terminationStatus != 0)
        #expect(message.contains("--register-templates needs a template store"), "\(message)")
    }
}
