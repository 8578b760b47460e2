public import Foundation
public import Logging
public import TaskerAMQP
public import TaskerCore
public import TaskerPostgres
internal import TaskerWire

/// Operator actions on tasks (cancel, retry, retry a step, resolve a step or a task by hand),
/// for the HTTP API and the CLI.
///
/// Each action is decided by the core (``WorkflowMachine/perform(_:snapshot:)``) under the
/// task's lock and applied in one transaction with its audit record and the outbox rows of its
/// messages (dispatches, lifecycle events, cancellations for workers). With a broker
/// `connection`, those messages are published (with confirms) right after the commit; without
/// one, or if publishing fails, the reenqueuer's outbox relay publishes them a few seconds later
/// (``PipelineConfiguration/outboxRelayAfterSeconds``). Either way the action and its messages
/// are atomic.
///
/// ```swift
/// let actions = OperatorActions(database: database, logger: logger)
/// let outcome = try await actions.perform(
///     OperatorCommand(taskID: id, action: .retryTask, actor: "alice", reason: "upstream fixed"))
/// switch outcome.status {
/// case .applied, .alreadyApplied: 200
/// case .refused: 409
/// case .notFound: 404
/// case .invalid: 422
/// }
/// ```
/// - Important: `database.run()` must be running (and the connection, if given, open).
public struct OperatorActions: Sendable {
    /// Where messages go and where time comes from.
    public struct Configuration: Sendable {
        /// Exchange and queue names (must match the services').
        public var topology: WireTopology
        /// Which lifecycle events are published (`TASKER_LIFECYCLE_EVENTS`; the services' default).
        public var events: LifecycleEventSelection
        /// Time and ids (the system's unless a test injects its own).
        public var clock: WorkflowClock

        public init(topology: WireTopology = .init(), events: LifecycleEventSelection = .task, clock: WorkflowClock = .system) {
            self.topology = topology
            self.events = events
            self.clock = clock
        }
    }

    let store: PostgresStore
    let connection: AMQPConnection?
    let configuration: Configuration
    let logger: Logger

    /// - Parameters:
    ///   - database: The Tasker database.
    ///   - connection: A broker connection to publish the actions' messages on right after the
    ///     commit; `nil` leaves them to the outbox relay.
    ///   - configuration: Topology and clock.
    ///   - logger: Logs at debug, with the task id.
    public init(database: Database, connection: AMQPConnection? = nil, configuration: Configuration = .init(), logger: Logger) {
        self.store = PostgresStore(database: database, topology: configuration.topology, events: configuration.events, clock: configuration.clock, logger: logger)
        self.connection = connection
        self.configuration = configuration
        self.logger = logger
    }

    /// Performs one command: applied, already applied (a repeat: nothing changed), refused
    /// (with the reason), not found, or invalid. Throws only when the database fails.
    public func perform(_ command: OperatorCommand) async throws -> OperatorOutcome {
        try await perform([command])[0]
    }

    /// Performs commands in order, in one transaction (each sees what the earlier ones did).
    public func perform(_ commands: [OperatorCommand]) async throws -> [OperatorOutcome] {
        guard !commands.isEmpty else { return [] }
        let recording = try await store.perform(commands, now: configuration.clock.now())
        if let connection, !recording.outbox.isEmpty {
            let wire = WirePublisher(connection: connection, topology: configuration.topology)
            await OutboxPublisher(wire: wire, store: store, logger: logger).publish(recording.outbox)
            // No batch of this store may follow to delete the published row: delete it now.
            do {
                try await store.flushPublishedOutbox()
            } catch {
                logger.debug("published outbox row not deleted; the relay will publish it again", metadata: [LogKeys.error: "\(String(reflecting: error))"])
            }
        }
        for (command, outcome) in zip(commands, recording.outcomes) {
            logger.debug(
                "operator action",
                metadata: [
                    LogKeys.taskID: "\(command.taskID)", "tasker.action": "\(command.action.name)",
                    "tasker.action.status": "\(outcome.status.rawValue)", "tasker.actor": "\(command.actor)",
                ])
        }
        return recording.outcomes
    }

    /// The applied actions on a task, oldest first (who, what, why, when).
    public func history(of taskID: UUID) async throws -> [OperatorRecord] {
        try await store.operatorActions(of: taskID)
    }
}
