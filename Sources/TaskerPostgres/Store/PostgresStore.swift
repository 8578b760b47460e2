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

    /// Runs `body` in a transaction; an error thrown by `body` is rethrown as is (rolled back),
    /// not wrapped in `PostgresTransactionError`, so callers can match ``StoreError`` codes.
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
        var attempt = 1
        while true {
            do {
                return try await database.withTransaction(body)
            } catch let error as PostgresTransactionError {
                let underlying: any Error = error.rollbackError == nil ? error.closureError ?? error : error
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

    /// Stores several planned tasks in a caller's transaction, with a fixed number of statements
    /// whatever their count. With `started`, each new task is stored `in_progress` with the audit
    /// rows `→ pending → in_progress`; otherwise `pending`.
    ///
    /// Returns one creation per plan, in order: a plan whose identity hash another task (or an
    /// earlier plan of the batch) already has is a duplicate with that task's id; `nil` means
    /// the plan's template version is not registered, and nothing was stored for it.
    static func createTasks(
        _ plans: [TaskPlan], started: Bool, topology: String = WireTopology().prefix, on connection: PostgresConnection, logger: Logger
    ) async throws -> [TaskCreation?] {
        guard !plans.isEmpty else { return [] }
        let tags = try plans.map { String(decoding: try JSONEncoder().encode($0.tags), as: UTF8.self) }
        // Arrays cannot carry NULL through these binds: '' stands for "none".
        let inserted = try await connection.query(
            """
            INSERT INTO tasks (id, template_id, namespace, name, version, state, context, identity_hash,
                               initiator, source_system, reason, tags, priority, steps_total, topology)
            SELECT i.id, t.id, t.namespace, t.name, t.version, \(started ? "in_progress" : "pending"), i.context::jsonb,
                   NULLIF(i.identity_hash, ''), NULLIF(i.initiator, ''), NULLIF(i.source_system, ''), NULLIF(i.reason, ''),
                   ARRAY(SELECT jsonb_array_elements_text(i.tags::jsonb)), i.priority, i.steps_total, \(topology)
            FROM unnest(\(plans.map(\.taskID))::uuid[], \(plans.map(\.template.namespace))::text[],
                        \(plans.map(\.template.name))::text[], \(plans.map(\.template.version.description))::text[],
                        \(plans.map(\.context.canonicalString))::text[], \(plans.map { $0.identityHash ?? "" })::text[],
                        \(plans.map { $0.initiator ?? "" })::text[], \(plans.map { $0.sourceSystem ?? "" })::text[],
                        \(plans.map { $0.reason ?? "" })::text[], \(tags)::text[], \(plans.map(\.priority))::int8[],
                        \(plans.map(\.steps.count))::int8[])
                 WITH ORDINALITY AS i(id, namespace, name, version, context, identity_hash, initiator, source_system, reason,
                                      tags, priority, steps_total, ordinal)
            JOIN task_templates t ON t.namespace = i.namespace AND t.name = i.name AND t.version = i.version
            ORDER BY i.ordinal
            ON CONFLICT (identity_hash) WHERE identity_hash IS NOT NULL DO NOTHING
            RETURNING id
            """,
            logger: logger
        )
        var created: Set<UUID> = []
        for try await id in inserted.decode(UUID.self) { created.insert(id) }

        let stored = plans.filter { created.contains($0.taskID) }
        if !stored.isEmpty {
            try await insertStepsAndEdges(of: stored, started: started, on: connection, logger: logger)
        }
        // Plans not stored: duplicates of an existing identity, or of an earlier plan in the batch.
        let hashes = plans.filter { !created.contains($0.taskID) }.compactMap(\.identityHash)
        var existing: [String: UUID] = [:]
        if !hashes.isEmpty {
            let rows = try await connection.query(
                "SELECT identity_hash, id FROM tasks WHERE identity_hash = ANY(\(hashes))", logger: logger)
            for try await (hash, id) in rows.decode((String, UUID).self) { existing[hash] = id }
        }
        return plans.map { plan in
            if created.contains(plan.taskID) { return TaskCreation(taskID: plan.taskID, duplicate: false) }
            if let hash = plan.identityHash, let id = existing[hash] { return TaskCreation(taskID: id, duplicate: true) }
            return nil
        }
    }

    /// The steps (each with its count of unfinished parents), edges and initial audit rows of new tasks.
    private static func insertStepsAndEdges(
        of plans: [TaskPlan], started: Bool, on connection: PostgresConnection, logger: Logger
    ) async throws {
        let steps = plans.flatMap { plan in plan.steps.map { (task: plan.taskID, step: $0) } }
        var parentCounts: [UUID: Int] = [:]
        for plan in plans { for edge in plan.edges { parentCounts[edge.child, default: 0] += 1 } }
        try await connection.query(
            """
            INSERT INTO steps (id, task_id, name, handler, position, retryable, max_attempts,
                               backoff_base_seconds, backoff_max_seconds, backoff_jitter, timeout_seconds, handler_config,
                               unfinished_parents)
            SELECT u.id, u.task_id, u.name, u.handler, u.position, u.retryable, u.max_attempts,
                   u.base, u.max, u.jitter, u.timeout, u.config::jsonb, u.parents
            FROM unnest(\(steps.map(\.step.id))::uuid[], \(steps.map(\.task))::uuid[], \(steps.map(\.step.name))::text[],
                        \(steps.map(\.step.handler))::text[], \(steps.map(\.step.position))::int8[],
                        \(steps.map(\.step.retry.retryable))::bool[], \(steps.map(\.step.retry.maxAttempts))::int8[],
                        \(steps.map(\.step.retry.backoff.baseSeconds))::float8[], \(steps.map(\.step.retry.backoff.maxSeconds))::float8[],
                        \(steps.map(\.step.retry.backoff.jitter))::float8[], \(steps.map(\.step.timeoutSeconds))::float8[],
                        \(steps.map(\.step.handlerConfig.canonicalString))::text[],
                        \(steps.map { parentCounts[$0.step.id] ?? 0 })::int8[])
                 AS u(id, task_id, name, handler, position, retryable, max_attempts, base, max, jitter, timeout, config, parents)
            """,
            logger: logger
        )
        let edges = plans.flatMap { plan in plan.edges.map { (task: plan.taskID, parent: $0.parent, child: $0.child) } }
        if !edges.isEmpty {
            try await connection.query(
                """
                INSERT INTO step_edges (task_id, parent_step_id, child_step_id)
                SELECT u.task_id, u.parent, u.child
                FROM unnest(\(edges.map(\.task))::uuid[], \(edges.map(\.parent))::uuid[], \(edges.map(\.child))::uuid[])
                     AS u(task_id, parent, child)
                """,
                logger: logger
            )
        }
        let taskIDs = plans.map(\.taskID)
        try await connection.query(
            """
            WITH task_rows AS (
                INSERT INTO task_transitions (task_id, from_state, to_state, sort_key, most_recent)
                SELECT u.id, NULL, 'pending', 1, NOT \(started) FROM unnest(\(taskIDs)::uuid[]) AS u(id)
                UNION ALL
                SELECT u.id, 'pending', 'in_progress', 2, true FROM unnest(\(taskIDs)::uuid[]) AS u(id) WHERE \(started)
            )
            INSERT INTO step_transitions (step_id, task_id, from_state, to_state, sort_key, most_recent)
            SELECT u.id, u.task_id, NULL, 'pending', 1, true
            FROM unnest(\(steps.map(\.step.id))::uuid[], \(steps.map(\.task))::uuid[]) AS u(id, task_id)
            """,
            logger: logger
        )
        for plan in plans {
            logger.debug("task created", metadata: [LogKeys.taskID: "\(plan.taskID)", LogKeys.template: "\(plan.template)"])
        }
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
            "SELECT parent_step_id, child_step_id FROM step_edges WHERE task_id = \(id)",
            logger: logger
        )
        for try await (parent, child) in edgeRows.decode((UUID, UUID).self) { parents[child, default: []].append(parent) }

        var steps: [StoredStep] = []
        let stepRows = try await connection.query(
            """
            SELECT id, name, handler, position, state, attempts, retryable, max_attempts, backoff_base_seconds,
                   backoff_max_seconds, backoff_jitter, timeout_seconds, handler_config::text, next_retry_at,
                   inputs::text, results::text, last_error::text
            FROM steps WHERE task_id = \(id) ORDER BY position
            """,
            logger: logger
        )
        for try await row in stepRows.decode(
            (UUID, String, String, Int, String, Int, Bool, Int, Double, Double, Double, Double, String, Date?, String?, String?, String?).self
        ) {
            steps.append(StoredStep(
                id: row.0,
                taskID: id,
                name: row.1,
                handler: row.2,
                position: row.3,
                state: try Self.decodeStepState(row.4),
                attempts: row.5,
                retry: RetryPolicy(retryable: row.6, maxAttempts: row.7, backoff: BackoffPolicy(baseSeconds: row.8, maxSeconds: row.9, jitter: row.10)),
                timeoutSeconds: row.11,
                handlerConfig: try JSONValue.parse(row.12),
                nextRetryAt: row.13,
                inputs: try row.14.map(JSONValue.parse),
                results: try row.15.map(JSONValue.parse),
                lastError: try row.16.map(JSONValue.parse),
                parents: (parents[row.0] ?? []).sorted { $0.uuidString < $1.uuidString }
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
            SELECT step_id, from_state, to_state, sort_key, most_recent, metadata::text, created_at
            FROM step_transitions WHERE task_id = \(id) ORDER BY step_id, sort_key
            """,
            logger: logger
        )
        for try await row in stepTransitionRows.decode((UUID, String?, String, Int, Bool, String, Date).self) {
            stepTransitions[row.0, default: []].append(TransitionRecord(
                fromState: row.1, toState: row.2, sortKey: row.3, mostRecent: row.4, metadata: try JSONValue.parse(row.5), createdAt: row.6))
        }
        return TaskDetail(task: task, steps: steps, taskTransitions: taskTransitions, stepTransitions: stepTransitions)
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
