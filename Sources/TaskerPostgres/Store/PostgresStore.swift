public import Foundation
public import Logging
internal import PostgresNIO
public import TaskerCore

/// The PostgreSQL adapter: tasks, steps, edges, their audit trails, templates and the outbox.
///
/// It is the storage driver of ``WorkflowMachine``: every batch operation (``startTasks(_:now:)``,
/// ``recordResults(_:now:)``, ``reenqueueDue(now:limit:)``, ``sweepExpired(now:grace:limit:)``)
/// runs one transaction that locks and loads what the batch needs (a ``PostgresBatch``), lets the
/// machine decide, and applies its effects together with the outbox rows (dispatches and
/// lifecycle events) that announce them. No decision is made here.
///
/// Callers publish the returned ``OutboxEntry`` values after the commit and then delete them
/// (``deleteOutbox(_:)``); rows left behind by a crash are republished by ``relayStaleOutbox(olderThan:limit:publish:)``.
/// All SQL goes through `PostgresQuery` interpolation (bound parameters).
///
/// ```swift
/// let store = PostgresStore(database: database, topology: WireTopology(prefix: "tasker"), logger: logger)
/// let started = try await store.startTasks(plans, now: clock.now())
/// ```
/// - Important: `database.run()` must be running while the store is used.
public struct PostgresStore: Sendable {
    public let database: Database
    /// The installation's exchanges and queues: dispatches are addressed with it, and the
    /// reenqueuer's and relay's scans keep to tasks of this topology.
    public let topology: WireTopology
    /// Which lifecycle events go to the outbox with the changes they announce.
    public let events: LifecycleEventSelection
    let clock: WorkflowClock
    let logger: Logger
    /// Published outbox rows that the next batch deletes (shared by copies of this store).
    let publishedOutbox = PublishedOutboxRows()

    /// - Parameters:
    ///   - events: which lifecycle events are published (the services' default is ``LifecycleEventSelection/task``).
    ///   - clock: where new message and event ids come from (batch times are passed to each call).
    public init(
        database: Database, topology: WireTopology = .init(), events: LifecycleEventSelection = .all,
        clock: WorkflowClock = .system, logger: Logger
    ) {
        self.database = database
        self.topology = topology
        self.events = events
        self.clock = clock
        self.logger = logger
    }

    /// The machine for a batch at `now`, with this store's id source.
    func machine(at now: Date) -> WorkflowMachine { WorkflowMachine(now: now, makeEventID: clock.makeID) }

    /// ``inTransaction(attempts:_:)`` for a batch operation: `body` gets the published outbox
    /// rows to delete with the batch's writes (``PostgresBatch``); if the transaction fails
    /// they stay pending.
    func inBatchTransaction<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresTransaction, [Int64]) async throws -> Result
    ) async throws -> Result {
        try await deletingPublishedOutbox { deleting in
            try await inTransaction { transaction in try await body(transaction, deleting) }
        }
    }

    /// A batch operation outside any explicit transaction (``PostgresBatch/Mode/optimistic``,
    /// ``PostgresBatch/Mode/creating(_:)``): `body` runs on one connection, on its event loop
    /// (``Database/onConnectionLoop(_:)``), and gets the published outbox rows to delete with
    /// its write call; if it fails they stay pending.
    func inBatchSession<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, [Int64]) async throws -> Result
    ) async throws -> Result {
        try await deletingPublishedOutbox { deleting in
            try await database.onConnectionLoop { connection in try await body(connection, deleting) }
        }
    }

    /// Hands `body` the published outbox rows no batch has deleted yet; they stay pending if it fails.
    private func deletingPublishedOutbox<Result: Sendable>(_ body: ([Int64]) async throws -> Result) async throws -> Result {
        let deleting = publishedOutbox.take()
        do {
            return try await body(deleting)
        } catch {
            publishedOutbox.add(deleting)
            throw error
        }
    }

    /// Runs `body` in a transaction; an error thrown by `body` is rethrown as is (rolled back),
    /// not wrapped in ``TransactionError``, so callers can match ``StoreError`` codes.
    ///
    /// A transaction that collided with another (deadlock, serialization failure) was rolled
    /// back by PostgreSQL and is run again, up to `attempts` times in all; `body` must
    /// therefore be safe to run again (its database work is; anything else it does, like
    /// publishing, must be at-least-once).
    /// The whole transaction has the database's deadline (``Database/callTimeout``); a missed
    /// deadline throws ``DatabaseTimeout`` and is not run again here.
    func inTransaction<Result: Sendable>(
        attempts: Int = 5, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await inTransaction(attempts: attempts) { (transaction: PostgresTransaction) in try await body(transaction.connection) }
    }

    /// ``inTransaction(attempts:_:)-(_,(PostgresConnection))`` for a body that takes the
    /// ``PostgresTransaction`` (to send its last statement with the `COMMIT`).
    func inTransaction<Result: Sendable>(
        attempts: Int = 5, _ body: @escaping @Sendable (PostgresTransaction) async throws -> Result
    ) async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await database.transaction(body)
            } catch let error as TransactionError {
                let underlying = error.underlying
                if TransientConflict.matches(underlying), attempt < attempts {
                    attempt += 1
                    logger.debug("transaction collided; running it again", metadata: ["tasker.attempt": "\(attempt)"])
                    continue
                }
                throw underlying
            }
        }
    }

    // MARK: Creating tasks

    /// Stores several planned tasks in a caller's transaction, in one call of
    /// `tasker_create_tasks` (migrations 0008, 0023) whatever their count. With `started`, each new
    /// task is stored `in_progress` with the audit rows `→ pending → in_progress`; otherwise `pending`.
    ///
    /// Returns one creation per plan, in order: a plan whose identity hash another task (or an
    /// earlier plan of the batch) already has is a duplicate with that task's id; `nil` means
    /// the plan's template version is not registered, and nothing was stored for it.
    static func createTasks(
        _ plans: [TaskPlan], started: Bool, topology: String = WireTopology().prefix, on connection: PostgresConnection, logger: Logger
    ) async throws -> [TaskCreation?] {
        guard !plans.isEmpty else { return [] }
        let statement = try CreateTasksStatement(plans: plans, started: started, topology: topology)
        var creations: [TaskCreation?] = []
        for try await (id, stored, existing) in try await connection.execute(statement, logger: logger) {
            if stored {
                creations.append(TaskCreation(taskID: id, duplicate: false))
                logger.debug("task created", metadata: [LogKeys.taskID: "\(id)"])
            } else {
                creations.append(existing.map { TaskCreation(taskID: $0, duplicate: true) })
            }
        }
        return creations
    }

    // MARK: Reading tasks

    /// The task with its steps (in template order) and both audit trails.
    /// - Throws: ``StoreError`` `.notFound`.
    public func fetchTask(_ id: UUID) async throws -> TaskDetail {
        let logger = self.logger
        return try await database.withConnection { connection in
            try await Self.fetchTask(id, on: connection, logger: logger)
        }
    }

    static func fetchTask(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> TaskDetail {
        let taskRows = try await connection.query(
            """
            SELECT id, namespace, name, version, state, context::text, identity_hash, initiator, source_system, reason,
                   tags, priority, created_at, updated_at, completed_at
            FROM tasks WHERE id = \(id)
            """,
            logger: logger
        )
        var task: StoredTask?
        for try await row in taskRows.decode(
            (UUID, String, String, String, String, String, String?, String?, String?, String?, [String], Int, Date, Date, Date?).self
        ) {
            task = StoredTask(
                id: row.0,
                template: TemplateKey(namespace: row.1, name: row.2, version: SemanticVersion(row.3) ?? SemanticVersion(0, 0, 0)),
                state: try Self.decodeState(row.4),
                context: try JSONValue.parse(row.5),
                identityHash: row.6,
                initiator: row.7,
                sourceSystem: row.8,
                reason: row.9,
                tags: row.10,
                priority: row.11,
                createdAt: row.12,
                updatedAt: row.13,
                completedAt: row.14
            )
        }
        guard let task else { throw StoreError(.notFound, "task \(id) does not exist") }

        var parents: [UUID: [UUID]] = [:]
        let edgeRows = try await connection.query(
            """
            SELECT e.parent_step_id, e.child_step_id FROM steps s JOIN step_edges e ON e.child_step_id = s.id
            WHERE s.task_id = \(id)
            """,
            logger: logger
        )
        for try await (parent, child) in edgeRows.decode((UUID, UUID).self) { parents[child, default: []].append(parent) }

        var steps: [StoredStep] = []
        let stepRows = try await connection.query(
            """
            SELECT id, name, handler, position, state, attempts, retryable, max_attempts, backoff_base_seconds,
                   backoff_max_seconds, backoff_jitter, timeout_seconds, handler_config::text, next_retry_at,
                   inputs::text, results::text, last_error::text, attempt_base
            FROM steps WHERE task_id = \(id) ORDER BY position
            """,
            logger: logger
        )
        for try await row in stepRows.decode(
            (UUID, String, String, Int, String, Int, Bool, Int, Double, Double, Double, Double, String, Date?, String?, String?, String?, Int).self
        ) {
            steps.append(StoredStep(
                id: row.0,
                taskID: id,
                name: row.1,
                handler: row.2,
                position: row.3,
                state: try Self.decodeStepState(row.4),
                attempts: row.5,
                attemptBase: row.17,
                retry: RetryPolicy(retryable: row.6, maxAttempts: row.7, backoff: BackoffPolicy(baseSeconds: row.8, maxSeconds: row.9, jitter: row.10)),
                timeoutSeconds: row.11,
                handlerConfig: try JSONValue.parse(row.12),
                nextRetryAt: row.13,
                inputs: try row.14.map(JSONValue.parse),
                results: try row.15.map(JSONValue.parse),
                lastError: try row.16.map(JSONValue.parse),
                parents: (parents[row.0] ?? []).sorted(by: UUID.precedes)
            ))
        }

        var taskTransitions: [TransitionRecord] = []
        let taskTransitionRows = try await connection.query(
            """
            SELECT from_state, to_state, sort_key, most_recent, metadata::text, created_at
            FROM task_transitions WHERE task_id = \(id) ORDER BY sort_key
            """,
            logger: logger
        )
        for try await row in taskTransitionRows.decode((String?, String, Int, Bool, String, Date).self) {
            taskTransitions.append(TransitionRecord(
                fromState: row.0, toState: row.1, sortKey: row.2, mostRecent: row.3, metadata: try JSONValue.parse(row.4), createdAt: row.5))
        }

        var stepTransitions: [UUID: [TransitionRecord]] = [:]
        let stepTransitionRows = try await connection.query(
            """
            SELECT st.step_id, st.from_state, st.to_state, st.sort_key, st.most_recent, st.metadata::text, st.created_at
            FROM steps s JOIN step_transitions st ON st.step_id = s.id
            WHERE s.task_id = \(id) ORDER BY st.step_id, st.sort_key
            """,
            logger: logger
        )
        for try await row in stepTransitionRows.decode((UUID, String?, String, Int, Bool, String, Date).self) {
            stepTransitions[row.0, default: []].append(TransitionRecord(
                fromState: row.1, toState: row.2, sortKey: row.3, mostRecent: row.4, metadata: try JSONValue.parse(row.5), createdAt: row.6))
        }
        let actions = try await operatorActions(of: id, on: connection, logger: logger)
        return TaskDetail(
            task: task, steps: steps, taskTransitions: taskTransitions, stepTransitions: stepTransitions, operatorActions: actions)
    }

    static func decodeState(_ raw: String) throws -> TaskState {
        guard let state = TaskState(rawValue: raw) else { throw StoreError(.notFound, "unknown task state '\(raw)' in the database") }
        return state
    }

    static func decodeStepState(_ raw: String) throws -> StepState {
        guard let state = StepState(rawValue: raw) else { throw StoreError(.notFound, "unknown step state '\(raw)' in the database") }
        return state
    }
}

extension PostgresRowSequence {
    /// The first column of the first row, draining the rest.
    func collectFirst<Value: PostgresDecodable & Sendable>(_ type: Value.Type) async throws -> Value? {
        var first: Value?
        for try await value in self.decode(Value.self) where first == nil { first = value }
        return first
    }
}
