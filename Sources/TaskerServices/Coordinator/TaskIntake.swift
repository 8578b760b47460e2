internal import Foundation
public import Logging
package import ServiceContextModule
internal import Synchronization
package import TaskerCore
public import TaskerPostgres
package import TaskerWire

/// The one way a task request becomes a running task, whichever door it came through: the
/// coordinator's `tasker.requests` queue or the HTTP API (`POST /v1/tasks`).
///
/// ``plan(_:wire:)`` finds the template (latest version unless one is named), makes sure the
/// namespace's worker queue exists, validates the context against `context_schema` and applies
/// the template's identity rules; ``start(_:wire:)`` stores the tasks, starts them and dispatches
/// their root steps in one transaction, then publishes the outbox. ``announceRejection(errors:request:details:wire:)``
/// announces a refused request (`task.request_rejected`).
///
/// ```swift
/// let intake = TaskIntake(database: database, configuration: pipeline, logger: logger)
/// switch try await intake.plan(request, wire: wire) {
/// case .success(let plan): let creation = try await intake.start([plan], wire: wire)[0]
/// case .failure(let rejection): try await intake.announceRejection(errors: rejection.errors, request: request, wire: wire)
/// }
/// ```
public struct TaskIntake: Sendable {
    public let templates: TemplateCache
    let store: PostgresStore
    let configuration: PipelineConfiguration
    let logger: Logger
    /// Namespaces whose worker queue has been declared through this intake.
    private let declaredNamespaces = DeclaredNamespaces()

    public init(database: Database, configuration: PipelineConfiguration, logger: Logger) {
        let store = PostgresStore(
            database: database, topology: configuration.topology, events: configuration.lifecycleEvents, clock: configuration.clock,
            logger: logger)
        self.init(store: store, configuration: configuration, logger: logger)
    }

    init(store: PostgresStore, configuration: PipelineConfiguration, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.templates = TemplateCache(store: store, logger: logger)
    }

    /// Validates a decoded request and plans its task.
    ///
    /// Returns the plan, or the rejection with every problem found (unknown template, context
    /// not matching the schema, missing idempotency key). Throws only on infrastructure trouble
    /// (database or broker).
    package func plan(_ request: TaskRequest, wire: WirePublisher) async throws -> Result<TaskPlan, RequestRejection> {
        guard let template = try await templates.lookup(namespace: request.namespace, name: request.name, version: request.version) else {
            let version = request.version.map { "@\($0)" } ?? ""
            return .failure(RequestRejection(["unknown template \(request.namespace)/\(request.name)\(version)"]))
        }
        // The namespace's worker queue must exist before its first dispatch, or the dispatch
        // would be unroutable until a worker for it starts.
        if !declaredNamespaces.contains(template.namespace) {
            try await TaskerTopology.declare(on: wire.connection, topology: configuration.topology, namespaces: [template.namespace])
            declaredNamespaces.insert(template.namespace)
        }
        do {
            return .success(try TaskPlanner.plan(request, template: template, makeID: configuration.clock.makeID))
        } catch {
            return .failure(error)
        }
    }

    /// Stores and starts the planned tasks in one transaction, then publishes the outbox (rows
    /// that fail to publish stay for the relay).
    ///
    /// Returns one creation per plan, in order: a new task, or the existing task with the same
    /// identity (`duplicate`); `nil` when the plan's template version was removed meanwhile.
    /// - Parameter traceContexts: one per plan (or none): the trace each new task's first
    ///   messages carry.
    package func start(_ plans: [TaskPlan], wire: WirePublisher, traceContexts: [ServiceContext] = []) async throws -> [TaskCreation?] {
        let started = try await store.startTasks(plans, now: configuration.clock.now())
        var traces: [UUID: ServiceContext] = [:]
        for (context, creation) in zip(traceContexts, started.creations) {
            if let creation { traces[creation.taskID] = context }
        }
        await OutboxPublisher(wire: wire, store: store, logger: logger).publish(started.outbox, traces: traces)
        for creation in started.creations.compactMap({ $0 }) {
            logger.debug("task request handled", metadata: [LogKeys.taskID: "\(creation.taskID)", "tasker.request.duplicate": "\(creation.duplicate)"])
        }
        return started.creations
    }

    /// Deletes the outbox rows ``start(_:wire:)`` published that no later start has deleted
    /// yet, every 250 ms until cancelled (``PostgresStore/flushPublishedOutboxUntilCancelled(every:)``);
    /// call ``flushPublishedOutbox()`` once more when stopping, or the relay publishes them a
    /// second time. The coordinator's bootstrap does both for its own store.
    public func flushPublishedOutboxUntilCancelled() async {
        await store.flushPublishedOutboxUntilCancelled()
    }

    /// Deletes the published outbox rows no later start has deleted yet, once.
    public func flushPublishedOutbox() async throws {
        try await store.flushPublishedOutbox()
    }

    /// Announces a refused request (`task.request_rejected`): the keys every event has,
    /// `task_id` null, the errors, the request when it could be read, and any `details` the
    /// caller adds (the coordinator: the message's id, size and whether it was dead-lettered).
    package func announceRejection(
        errors: [String], request: TaskRequest?, details extra: [String: JSONValue] = [:], wire: WirePublisher
    ) async throws {
        var details: [String: JSONValue] = ["errors": .array(errors.map(JSONValue.string))]
        if let request { details["request"] = request.json }
        details.merge(extra) { current, _ in current }
        let event = LifecycleEvent(
            event: .taskRequestRejected, eventID: configuration.clock.makeID(), occurredAt: configuration.clock.now(), taskID: nil,
            details: details)
        try await wire.publish(try OutboundMessage.event(event, topology: configuration.topology))
        logger.debug("task request rejected", metadata: ["tasker.request.errors": "\(errors)"])
    }
}

/// A set of namespace names shared by the copies of one ``TaskIntake``.
private final class DeclaredNamespaces: Sendable {
    private let names = Mutex<Set<String>>([])

    func contains(_ namespace: String) -> Bool { names.withLock { $0.contains(namespace) } }
    func insert(_ namespace: String) { _ = names.withLock { $0.insert(namespace) } }
}
