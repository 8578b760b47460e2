import ArgumentParser
import Foundation
import TaskerRuntime
import Logging
import TaskerAMQP
import TaskerCore
import TaskerPostgres
import TaskerServices
import TaskerWire

/// `tasker submit <namespace> <name> --context '<json>' [--wait]`.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Request a task through RabbitMQ; print its id, and with --wait follow it to the end."
    )
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var service: ServiceOptions

    @Argument(help: "Template namespace.") var namespace: String
    @Argument(help: "Template name.") var name: String
    @Option(help: "Template version (default: latest registered).") var version: String?
    @Option(help: "Task context as a JSON object.") var context: String = "{}"
    @Option(help: "Idempotency key (templates with identity_strategy caller_provided).") var idempotencyKey: String?
    @Option(help: "Who asked.") var initiator: String = "tasker-cli"
    @Flag(help: "Follow the task with a live progress line until it ends, then print its final state.") var wait = false
    @Option(help: "Give up waiting after this many seconds.") var timeout: Double = 300

    func run() async throws {
        let logger = logging.makeLogger(label: "tasker.submit", default: .warning)
        let contextValue: JSONValue
        do { contextValue = try JSONValue.parse(context) } catch { throw ValidationError("--context: \(error)") }
        var request = TaskRequest(namespace: namespace, name: name, context: contextValue, initiator: initiator, sourceSystem: "cli")
        request.idempotencyKey = idempotencyKey
        if let version {
            guard let parsed = SemanticVersion(version) else { throw ValidationError("--version must look like 1.0.0") }
            request.version = parsed
        }
        let topology = service.topology
        let submitted = request
        let reply = try await AMQPConnection.withConnection(configuration: try service.amqpConfiguration(name: "tasker-cli"), logger: logger) { connection in
            // Declared here too (idempotent): a request submitted before the coordinator ever
            // started waits in its queue instead of failing on a missing exchange.
            try await TaskerTopology.declare(on: connection, topology: topology, namespaces: [])
            return try await TaskRequestClient.withClient(connection: connection, topology: topology, logger: logger) { client in
                try await client.submit(submitted)
            }
        }
        guard let taskID = reply.taskID, reply.status != .rejected else {
            print("rejected:")
            for error in reply.errors { print("  - \(error)") }
            throw ExitCode(2)
        }
        print("\(reply.status == .duplicate ? "duplicate of" : "created") task \(taskID.uuidString.lowercased())")
        // Before --wait writes its progress to standard error: stdout is buffered when redirected.
        fflush(nil)
        guard wait else { return }
        let detail = try await database.withDatabase(logger: logger) { database in
            try await TaskWatcher.follow(taskID, store: PostgresStore(database: database, logger: logger), timeout: timeout)
        }
        print(TaskReport(detail).text)
        if detail.task.state != .complete { throw ExitCode(1) }
    }
}

/// Polls a task until it ends, printing one progress line in place.
enum TaskWatcher {
    static func follow(_ id: UUID, store: PostgresStore, timeout: Double) async throws -> TaskDetail {
        let start = ContinuousClock.now
        var lastLine = ""
        // On a terminal the line is rewritten in place; in a log, each change is a new line.
        let inPlace = isatty(STDERR_FILENO) != 0
        let (rewrite, finish) = inPlace ? ("\r\u{1B}[K", "\n") : ("", "\n")
        while true {
            let detail = try await store.fetchTask(id)
            let counts = Dictionary(grouping: detail.steps, by: \.state).mapValues(\.count)
            let parts = StepState.allCases.compactMap { state in counts[state].map { "\($0) \(state.rawValue)" } }
            let line = "\(detail.task.state.rawValue): " + parts.joined(separator: ", ")
            if line != lastLine {
                FileHandle.standardError.write(Data((inPlace ? rewrite + line : line + finish).utf8))
                lastLine = line
            }
            if detail.task.state.isFinished {
                if inPlace { FileHandle.standardError.write(Data(finish.utf8)) }
                return detail
            }
            if ContinuousClock.now - start > .seconds(timeout) {
                if inPlace { FileHandle.standardError.write(Data(finish.utf8)) }
                throw CommandFailure("task \(id.uuidString.lowercased()) still \(detail.task.state.rawValue) after \(Int(timeout))s")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
