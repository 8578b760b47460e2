public import Foundation
internal import Logging
internal import PostgresNIO
public import TaskerCore

extension PostgresStore {
    /// What a batch of operator commands did.
    public struct OperatorRecording: Sendable {
        /// One per command, in order.
        public var outcomes: [OperatorOutcome]
        /// The messages to publish after the commit (dispatches, lifecycle events, cancellations).
        public var outbox: [OutboxEntry]
    }

    /// Decides and applies operator commands in one transaction, like a batch of step results:
    /// locks the tasks they name (in id order) and all their steps (``PostgresBatch``), lets
    /// ``WorkflowMachine/perform(_:snapshot:)`` decide, and writes the step and task moves, the
    /// audit records (`operator_actions`), and the outbox row of the messages announcing them.
    ///
    /// The task locks serialise commands with finalizers and with each other: a result that
    /// arrives while a cancellation commits is decided after it (and ignored), and of two
    /// identical commands the second finds its effect in place (`already_applied`).
    public func perform(_ commands: [OperatorCommand], now: Date) async throws -> OperatorRecording {
        guard !commands.isEmpty else { return OperatorRecording(outcomes: [], outbox: []) }
        return try await inTransaction { connection in
            var batch = PostgresBatch(store: self, connection: connection, now: now)
            let effects = try await machine(at: now).perform(commands, with: &batch)
            return OperatorRecording(outcomes: effects.actions, outbox: batch.outbox)
        }
    }

    /// The applied operator actions on a task, oldest first.
    public func operatorActions(of taskID: UUID) async throws -> [OperatorRecord] {
        let logger = self.logger
        return try await database.withConnection { connection in
            try await Self.operatorActions(of: taskID, on: connection, logger: logger)
        }
    }

    static func operatorActions(of taskID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [OperatorRecord] {
        let rows = try await connection.query(
            """
            SELECT id, task_id, step_id, action, actor, reason, results::text, created_at
            FROM operator_actions WHERE task_id = \(taskID) ORDER BY created_at, id
            """,
            logger: logger)
        var records: [OperatorRecord] = []
        for try await row in rows.decode((UUID, UUID, UUID?, String, String, String, String?, Date).self) {
            records.append(OperatorRecord(
                id: row.0, taskID: row.1, stepID: row.2, action: row.3, actor: row.4, reason: row.5,
                results: try row.6.map(JSONValue.parse), occurredAt: row.7))
        }
        return records
    }
}

extension PostgresBatch {
    /// Locks the tasks (in id order), then every step of theirs (in id order), and loads what
    /// operator commands need: the tasks with their counts, every step as a row and as a child
    /// (its unfinished-parent count), every edge. Remembers each task's namespace (cancellations
    /// are routed by it). The same lock order as result batches: tasks first.
    mutating func loadSnapshot(forTasks ids: [UUID]) async throws -> WorkflowSnapshot {
        let taskRows = try await connection.query(
            """
            SELECT id, state, steps_total, steps_done, steps_error, steps_active, namespace FROM tasks
            WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE
            """,
            logger: logger)
        var tasks: [WorkflowSnapshot.Task] = []
        for try await (id, state, total, done, failed, active, namespace) in taskRows.decode((UUID, String, Int, Int, Int, Int, String).self) {
            tasks.append(.init(
                id: id, state: try PostgresStore.decodeState(state),
                progress: TaskProgress(total: total, done: done, failed: failed, active: active)))
            namespaces[id] = namespace
        }
        let found = tasks.map(\.id)
        guard !found.isEmpty else { return WorkflowSnapshot(tasks: [], steps: [], children: [:], childRows: []) }
        let stepRows = try await connection.query(
            """
            SELECT id, task_id, name, state, attempts, retryable, max_attempts, backoff_base_seconds, backoff_max_seconds,
                   backoff_jitter, timeout_seconds, attempt_base, unfinished_parents
            FROM steps WHERE task_id = ANY(\(found)) ORDER BY id FOR UPDATE
            """,
            logger: logger)
        var steps: [StepResultLedger.Step] = []
        var rows: [WorkflowSnapshot.Child] = []
        for try await row in stepRows.decode((UUID, UUID, String, String, Int, Bool, Int, Double, Double, Double, Double, Int, Int).self) {
            let state = try PostgresStore.decodeStepState(row.3)
            steps.append(StepResultLedger.Step(
                id: row.0, taskID: row.1, name: row.2, state: state, attempts: row.4,
                retry: RetryPolicy(retryable: row.5, maxAttempts: row.6, backoff: BackoffPolicy(baseSeconds: row.7, maxSeconds: row.8, jitter: row.9)),
                timeoutSeconds: row.10, lastSortKey: 0, attemptBase: row.11))
            rows.append(.init(id: row.0, taskID: row.1, state: state, unfinishedParents: row.12))
        }
        var children: [UUID: [UUID]] = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, []) })
        let edges = try await connection.query(
            """
            SELECT e.parent_step_id, e.child_step_id FROM steps s JOIN step_edges e ON e.child_step_id = s.id
            WHERE s.task_id = ANY(\(found))
            """, logger: logger)
        for try await (parent, child) in edges.decode((UUID, UUID).self) { children[parent, default: []].append(child) }
        return WorkflowSnapshot(tasks: tasks, steps: steps, children: children, childRows: rows)
    }

    /// Writes what only operator commands decide, before the rest of the batch: the attempt
    /// bases of retried steps (the dispatches built next announce `max_attempts + attempt_base`)
    /// and the audit records. Returns the cancellations for workers as messages.
    mutating func applyOperatorEffects(_ effects: WorkflowEffects) async throws -> [OutboundMessage] {
        if !effects.attemptBases.isEmpty {
            let ids = Array(effects.attemptBases.keys)
            try await connection.query(
                """
                UPDATE steps s SET attempt_base = b.base
                FROM unnest(\(ids)::uuid[], \(ids.map { effects.attemptBases[$0]! })::int8[]) AS b(id, base)
                WHERE s.id = b.id AND s.id = ANY(\(ids))
                """,
                logger: logger)
        }
        let records = effects.operatorRecords
        if !records.isEmpty {
            // Arrays cannot carry NULL through these binds: '' stands for "none".
            try await connection.query(
                """
                INSERT INTO operator_actions (id, task_id, step_id, action, actor, reason, results, created_at)
                SELECT r.id, r.task_id, NULLIF(r.step_id, '')::uuid, r.action, r.actor, r.reason, NULLIF(r.results, '')::jsonb,
                       to_timestamp(r.at)
                FROM unnest(\(records.map(\.id))::uuid[], \(records.map(\.taskID))::uuid[],
                            \(records.map { $0.stepID?.uuidString ?? "" })::text[], \(records.map(\.action))::text[],
                            \(records.map(\.actor))::text[], \(records.map(\.reason))::text[],
                            \(records.map { $0.results?.canonicalString ?? "" })::text[],
                            \(records.map(\.occurredAt.timeIntervalSince1970))::float8[])
                     AS r(id, task_id, step_id, action, actor, reason, results, at)
                """,
                logger: logger)
            for record in records {
                logger.debug(
                    "operator action applied",
                    metadata: [LogKeys.taskID: "\(record.taskID)", "tasker.action": "\(record.action)", "tasker.action.id": "\(record.id)"])
            }
        }
        return try effects.cancellations.compactMap { cancellation in
            guard let namespace = namespaces[cancellation.taskID] else { return nil }
            return try OutboundMessage.cancellation(
                cancellation, namespace: namespace, topology: store.topology, messageID: store.clock.makeID())
        }
    }
}
