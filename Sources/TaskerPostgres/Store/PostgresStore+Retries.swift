public import Foundation
internal import PostgresNIO
internal import TaskerCore

extension PostgresStore {
    /// Dispatches up to `limit` steps whose retry time has come, in one transaction.
    /// Concurrent reenqueuers skip each other's rows.
    public func reenqueueDue(now: Date, limit: Int = 500) async throws -> [OutboxEntry] {
        try await inBatchTransaction { transaction, deleting in
            var waiting: [(stepID: UUID, nextRetryAt: Date, taskState: TaskState)] = []
            var taskOf: [UUID: UUID] = [:]
            let rows = try await transaction.connection.query(
                """
                SELECT s.id, s.next_retry_at, t.state, t.id FROM steps s JOIN tasks t ON t.id = s.task_id
                WHERE s.state = 'waiting_for_retry' AND s.next_retry_at <= \(now) AND t.state = 'in_progress'
                  AND t.topology = \(topology.prefix)
                ORDER BY s.next_retry_at LIMIT \(limit)
                FOR UPDATE OF s SKIP LOCKED
                """,
                logger: logger
            )
            for try await (id, at, state, task) in rows.decode((UUID, Date, String, UUID).self) {
                waiting.append((id, at, try Self.decodeState(state)))
                taskOf[id] = task
            }
            let machine = machine(at: now)
            let due = machine.retriesDue(waiting)
            var batch = PostgresBatch(store: self, committing: transaction, now: now, deleting: deleting)
            var effects = WorkflowEffects()
            effects.dispatch = due
            effects.events = machine.reenqueueRequested(due.compactMap { step in taskOf[step].map { (step, $0) } })
            try await batch.apply(effects)
            try await batch.finish()
            return batch.outbox
        }
    }

    /// The earliest retry time of any step waiting for one.
    public func nextRetryAt() async throws -> Date? {
        let logger = self.logger
        return try await database.withConnection { connection in
            try await connection.query(
                """
                SELECT min(s.next_retry_at) FROM steps s JOIN tasks t ON t.id = s.task_id
                WHERE s.state = 'waiting_for_retry' AND t.topology = \(topology.prefix)
                """, logger: logger
            ).collectFirst(Date?.self) ?? nil
        }
    }

    /// Handles attempts whose deadline passed `grace` seconds ago without a result: a running
    /// attempt fails as a timeout (and is retried by the usual rules); a dispatch nobody started
    /// is published again with a new deadline.
    public func sweepExpired(now: Date, grace: Double, limit: Int = 200) async throws -> [OutboxEntry] {
        try await inBatchTransaction { transaction, deleting in
            let connection = transaction.connection
            var expired: [WorkflowMachine.ExpiredAttempt] = []
            let rows = try await connection.query(
                """
                SELECT s.id, s.task_id, s.state, s.attempts, s.name FROM steps s JOIN tasks t ON t.id = s.task_id
                WHERE s.state IN ('enqueued', 'in_progress') AND s.deadline < \(now.addingTimeInterval(-grace))
                  AND t.topology = \(topology.prefix)
                ORDER BY s.deadline LIMIT \(limit) FOR UPDATE OF s SKIP LOCKED
                """,
                logger: logger
            )
            for try await row in rows.decode((UUID, UUID, String, Int, String).self) {
                expired.append(.init(
                    stepID: row.0, taskID: row.1, stepName: row.4, state: try Self.decodeStepState(row.2), attempts: row.3))
            }
            let machine = machine(at: now)
            let sweep = machine.sweep(expired, grace: grace)
            var batch = PostgresBatch(store: self, connection: connection, now: now, deleting: deleting)
            var generator = SystemRandomNumberGenerator()
            _ = try await machine.recordResults(sweep.timeouts, with: &batch, using: &generator)
            var redispatched: [OutboundMessage] = []
            let dispatches = try await dispatchData(sweep.redispatch, on: connection)
            if !dispatches.isEmpty {
                let ids = dispatches.map(\.stepID)
                try await connection.query(
                    """
                    UPDATE steps s SET deadline = to_timestamp(d.deadline)
                    FROM unnest(\(ids)::uuid[], \(dispatches.map { now.addingTimeInterval($0.timeoutSeconds).timeIntervalSince1970 })::float8[])
                         AS d(id, deadline)
                    WHERE s.id = d.id AND s.id = ANY(\(ids))
                    """,
                    logger: logger)
            }
            redispatched += try dispatches.map { try OutboundMessage.dispatch($0.dispatch(now: now), topology: topology, messageID: clock.makeID()) }
            try await batch.finish()
            return batch.outbox + (try await insertOutbox(redispatched, on: connection))
        }
    }
}
