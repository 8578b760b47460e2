import Foundation
import Synchronization
import Testing
import TaskerCore
import TaskerPostgres
import TaskerServices
import TaskerTestSupport

/// PostgreSQL restarts (a failover, a crash) under load: the services must recover by
/// themselves — no delivery left unacknowledged, every task completed with the right results,
/// and without the deadline sweeper's help (it is switched off here).
@Suite(.serialized, .timeLimit(.minutes(6))) struct DatabaseRestartTests {
    static let taskCount = 200

    /// A fast shutdown (a failover) twice, with the services in this process.
    @Test func servicesInProcessRecoverFromFastRestarts() async throws {
        var options = PipelineHarness.Options()
        options.finalizers = 2
        options.workers = 2
        options.sweeperGraceSeconds = 3_600
        options.databaseTimeout = .seconds(5)
        try await PipelineHarness.run(options: options) { harness in
            let replies = try await submitWhileRestarting(harness, mode: "fast")
            try await checkCompleted(harness, replies: replies)
        }
    }

    /// An immediate shutdown (a crash) twice, with the coordinator, two finalizers and the
    /// reenqueuer as separate `tasker` processes, kept running by a supervisor as in production
    /// (postgres-nio 1.33 can trap when the server dies mid-result; docs/operations.md). Then
    /// SIGTERM ends every process within its drain time.
    @Test func serviceProcessesRecoverFromImmediateRestarts() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: ProcessTests.binary.path), "build the tasker binary first (swift build)")
        var options = PipelineHarness.Options()
        options.workers = 2
        options.runOrchestration = false
        try await PipelineHarness.run(options: options) { harness in
            let supervisor = Supervisor(harness: harness, roles: ["coordinator", "finalizer", "finalizer", "reenqueuer"])
            try supervisor.start()
            let replies = try await submitWhileRestarting(harness, mode: "immediate")
            try await checkCompleted(harness, replies: replies)
            let exits = try await supervisor.stop()
            #expect(exits.allSatisfy { $0.seconds < 10 }, "SIGTERM took too long: \(exits)")
            #expect(exits.allSatisfy { $0.status == 0 }, "unclean exits: \(exits)")
            if supervisor.restarts > 0 { print("service processes restarted after a crash: \(supervisor.restarts)") }
        }
    }

    /// Services started while PostgreSQL and RabbitMQ are both down wait for them (retrying
    /// with backoff) instead of exiting, and then work.
    @Test func servicesStartedDuringAnOutageWaitForTheDatabaseAndTheBroker() async throws {
        var options = PipelineHarness.Options()
        options.runOrchestration = false
        try await PipelineHarness.run(options: options) { harness in
            async let database = opsShell("ops/restart-postgres fast --down 6")
            try await opsShell("rabbitctl -q stop_app")
            try await Task.sleep(for: .milliseconds(300))
            let supervisor = Supervisor(harness: harness, roles: ["coordinator", "finalizer", "reenqueuer"])
            try supervisor.start()
            try await Task.sleep(for: .seconds(3))
            try await opsShell("rabbitctl -q start_app")
            _ = try await database
            let reply = try await harness.submit("diamond", context: ["even_number": 2, "run": .string(UUID().uuidString)])
            let detail = try await harness.waitForTask(try #require(reply.taskID), timeout: .seconds(60))
            #expect(detail.task.state == .complete)
            #expect(supervisor.restarts == 0, "a service exited during the outage")
            _ = try await supervisor.stop()
        }
    }

    /// Submits the tasks in waves of 20 every 100 ms while the server restarts twice.
    private func submitWhileRestarting(_ harness: PipelineHarness, mode: String) async throws -> [TaskRequestReply] {
        let run = UUID().uuidString
        async let restarts: Void = {
            try await Task.sleep(for: .milliseconds(400))
            try await opsShell("ops/restart-postgres \(mode)")
            try await Task.sleep(for: .milliseconds(700))
            try await opsShell("ops/restart-postgres \(mode) --down 1")
        }()
        var replies: [TaskRequestReply] = []
        for wave in 0..<(Self.taskCount / 20) {
            let requests = (0..<20).map { offset in
                TaskRequest(
                    namespace: harness.namespace, name: "diamond",
                    context: ["even_number": .int(Int64(2 + 2 * (wave * 20 + offset))), "run": .string(run)])
            }
            replies += try await harness.submitAll(requests)
            try await Task.sleep(for: .milliseconds(100))
        }
        try await restarts
        return replies
    }

    /// Every task complete with the right result, each step run once (no sweeper, no retry),
    /// and nothing left unacknowledged in the pipeline's queues.
    private func checkCompleted(_ harness: PipelineHarness, replies: [TaskRequestReply]) async throws {
        // A request whose first answer was lost in a restart is answered again on redelivery, as
        // a duplicate of the task it already created: either way, it has its task.
        #expect(replies.allSatisfy { ($0.status == .created || $0.status == .duplicate) && $0.taskID != nil }, "\(replies.filter { $0.taskID == nil })")
        #expect(Set(replies.compactMap(\.taskID)).count == replies.count, "two requests answered with the same task")
        for (index, reply) in replies.enumerated() {
            let detail = try await harness.waitForTask(try #require(reply.taskID), timeout: .seconds(90))
            #expect(detail.task.state == .complete, "task \(index)")
            var x = Int64(2 + 2 * index)
            for _ in 0..<4 { x = (x * x) % ExpectedResults.prime }
            #expect(detail.step(named: "end")?.results?["value"]?.intValue == x, "task \(index)")
            let rerun = detail.steps.filter { $0.attempts > 1 }
            #expect(rerun.isEmpty, "task \(index): steps with more than one attempt: \(rerun.map(\.name))")
        }
        let start = ContinuousClock.now
        var busy: [Substring] = []
        repeat {
            let listing = try await opsShell("rabbitctl -q list_queues name messages_ready messages_unacknowledged")
            busy = listing.split(separator: "\n").filter { line in
                let fields = line.split(separator: "\t")
                return fields.count == 3 && fields[0].hasPrefix(harness.topology.prefix + ".")
                    && !fields[0].hasSuffix(".dead") && (fields[1] != "0" || fields[2] != "0")
            }
            if busy.isEmpty { return }
            try await Task.sleep(for: .milliseconds(500))
        } while ContinuousClock.now - start < .seconds(20)
        Issue.record("queues still hold messages: \(busy)")
    }
}

/// Keeps `tasker` service processes running (relaunching any that exits), as a process
/// supervisor does in production, and stops them with SIGTERM.
final class Supervisor: Sendable {
    let harness: PipelineHarness
    let roles: [String]
    private let processes = Mutex<[Process]>([])
    private let relaunched = Mutex(0)
    private let watching = Mutex<Task<Void, Never>?>(nil)

    init(harness: PipelineHarness, roles: [String]) {
        self.harness = harness
        self.roles = roles
    }

    var restarts: Int { relaunched.withLock { $0 } }

    func start() throws {
        let launched = try roles.map(launch)
        processes.withLock { $0 = launched }
        let task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                for index in roles.indices where !processes.withLock({ $0[index].isRunning }) {
                    guard !Task.isCancelled, let fresh = try? launch(roles[index]) else { continue }
                    print("supervisor: \(roles[index]) exited (\(processes.withLock { $0[index].terminationReason == .uncaughtSignal ? "signal" : "exit" })), relaunched")
                    processes.withLock { $0[index] = fresh }
                    relaunched.withLock { $0 += 1 }
                }
            }
        }
        watching.withLock { $0 = task }
    }

    /// SIGTERM to every process; returns how each ended and how long it took.
    func stop() async throws -> [(role: String, status: Int32, seconds: Double)] {
        watching.withLock { $0?.cancel() }
        try await Task.sleep(for: .milliseconds(300))
        let running = processes.withLock { $0 }
        let start = ContinuousClock.now
        for process in running { process.terminate() }
        var exits: [(String, Int32, Double)] = []
        for (role, process) in zip(roles, running) {
            while process.isRunning && ContinuousClock.now - start < .seconds(30) { try await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            let elapsed = ContinuousClock.now - start
            exits.append((role, process.isRunning ? -1 : process.terminationStatus,
                          Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        }
        return exits
    }

    private func launch(_ role: String) throws -> Process {
        let process = Process()
        process.executableURL = ProcessTests.binary
        process.arguments = [role, "--log-level", "warning"]
        var environment = ProcessInfo.processInfo.environment
        environment["TASKER_TOPOLOGY_PREFIX"] = harness.topology.prefix
        environment["TASKER_DATABASE_TIMEOUT_SECONDS"] = "5"
        environment["TASKER_SWEEPER_GRACE_SECONDS"] = "3600"
        environment["TASKER_SHUTDOWN_DRAIN_SECONDS"] = "5"
        process.environment = environment
        try process.run()
        return process
    }
}
