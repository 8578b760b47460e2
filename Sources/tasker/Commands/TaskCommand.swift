import ArgumentParser
import Foundation
import Logging
import Synchronization
import TaskerAMQP
import TaskerCore
import TaskerPostgres
import TaskerRuntime
import TaskerServices

/// `tasker task cancel|retry|retry-step|resolve-step|resolve <task-id> ...`: operator actions,
/// straight on the database (`OperatorActions`); their messages are published on the broker
/// when it is reachable, else by the reenqueuer's outbox relay.
struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Operator actions on a task: cancel, retry, retry a step, resolve a step or the task by hand.",
        discussion: """
            Every action records who (--actor, default $USER) and why (--reason) in the audit trail. \
            Exit status: 0 applied or already applied, 1 refused (the state forbids it), 2 invalid, 3 not found, \
            64 a command line it cannot read (printed with the usage). `tasker tasks --state error` finds failed tasks.
            """,
        subcommands: [Cancel.self, Retry.self, RetryStep.self, ResolveStep.self, Resolve.self]
    )

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a pending or running task: its unfinished steps are cancelled and running handlers told to stop.")
        @OptionGroup var action: ActionOptions
        @Argument(help: "The task id.") var taskID: String
        func run() async throws { try await action.perform(.cancelTask, on: taskID) }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retry a failed task: its failed steps run again with a fresh attempt budget, then what they blocked.")
        @OptionGroup var action: ActionOptions
        @Argument(help: "The task id.") var taskID: String
        func run() async throws { try await action.perform(.retryTask, on: taskID) }
    }

    struct RetryStep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Retry one failed step (fresh attempt budget).")
        @OptionGroup var action: ActionOptions
        @Argument(help: "The task id.") var taskID: String
        @Argument(help: "The step's name or id.") var step: String
        func run() async throws { try await action.perform(.retryStep(.init(step)), on: taskID) }
    }

    struct ResolveStep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Declare a pending, waiting or failed step done with the given results; its children run as if it had completed.")
        @OptionGroup var action: ActionOptions
        @Argument(help: "The task id.") var taskID: String
        @Argument(help: "The step's name or id.") var step: String
        @Option(help: "The step's results as JSON (what its children receive).") var results: String = "{}"
        func run() async throws {
            let value: JSONValue
            do { value = try JSONValue.parse(results) } catch { throw ValidationError("--results: \(error)") }
            try await action.perform(.resolveStep(.init(step), results: value), on: taskID)
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Declare a failed task done (error → resolved_manually).")
        @OptionGroup var action: ActionOptions
        @Argument(help: "The task id.") var taskID: String
        func run() async throws { try await action.perform(.resolveTask, on: taskID) }
    }
}

/// What every operator action takes: who, why, where the database and broker are, how to print.
struct ActionOptions: ParsableArguments {
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var service: ServiceOptions
    @Option(help: "Who is acting, for the audit trail (default: $USER, else tasker-cli).") var actor: String?
    @Option(help: "Why, for the audit trail.") var reason: String
    @Flag(help: "Do not publish the action's messages; leave them to the reenqueuer's outbox relay.") var noPublish = false
    @Flag(help: "Print the outcome as JSON.") var json = false

    func perform(_ action: OperatorCommand.Action, on task: String) async throws {
        guard let taskID = UUID(uuidString: task) else { throw ValidationError("not a task id: \(task)") }
        let logger = logging.makeLogger(label: "tasker.task", default: .warning)
        let command = OperatorCommand(
            taskID: taskID, action: action, actor: actor ?? ProcessInfo.processInfo.environment["USER"] ?? "tasker-cli", reason: reason)
        let configuration = OperatorActions.Configuration(topology: service.topology, events: try service.pipeline().lifecycleEvents)
        var broker = try service.amqpConfiguration(name: "tasker-cli-operator")
        broker.startupTimeout = .seconds(5)
        let amqp = broker
        let publish = !noPublish
        let (outcome, published) = try await database.withDatabase(logger: logger) { database in
            guard publish else {
                return (try await OperatorActions(database: database, configuration: configuration, logger: logger).perform(command), false)
            }
            let ran = Mutex(false)
            do {
                let outcome = try await AMQPConnection.withConnection(configuration: amqp, logger: logger) { connection in
                    ran.withLock { $0 = true }
                    return try await OperatorActions(database: database, connection: connection, configuration: configuration, logger: logger)
                        .perform(command)
                }
                return (outcome, true)
            } catch where !ran.withLock({ $0 }) {
                logger.debug("broker unreachable; the outbox relay will publish", metadata: [LogKeys.error: "\(error)"])
                return (try await OperatorActions(database: database, configuration: configuration, logger: logger).perform(command), false)
            }
        }
        if json {
            print(outcome.json.canonicalString)
        } else {
            print("\(outcome.status.rawValue): \(outcome.message)")
            if let state = outcome.taskState { print("  task \(taskID.uuidString.lowercased()): \(state.rawValue)") }
            for change in outcome.steps { print("  \(change.stepName): \(change.from.rawValue) → \(change.to.rawValue)") }
            if outcome.status == .applied && !published { print("  (its messages will be published by the reenqueuer's outbox relay)") }
        }
        switch outcome.status {
        case .applied, .alreadyApplied: return
        case .refused: throw ExitCode(1)
        case .invalid: throw ExitCode(2)
        case .notFound: throw ExitCode(3)
        }
    }
}
