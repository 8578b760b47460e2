public import Foundation
internal import PostgresNIO
internal import TaskerCore

extension PipelineStore {
    /// Dispatches up to `limit` steps whose retry time has come, in one transaction.
    /// Concurrent reenqueuers skip each other's rows.
    public func reenqueueDue(now: Date, limit: Int = 500) async throws -> [OutboxEntry] {
        try await tasks.inTransaction { connection in
            var due: [UUID] = []
            let rows = try await connection.query(
                """
                SELECT s.id FROM steps s JOIN tasks t ON t.id = s.task_id
                WHERE s.state = 'waiting_for_retry' AND s.next_retry_at <= \(now) AND t.state = 'in_progress'
                ORDER BY s.next_retry_at LIMIT \(limit)
                FOR UPDATE OF s SKIP LOCKED
                """,
                logger: logger
            )
            for try await id in rows.decode(UUID.self) { due.append(id) }
            let messages = try await enqueue(due, now: now, on: connection)
            return try await insertOutbox(messages, on: connection)
        }
    }

    /// The earliest retry time of any step waiting for one.
    public func nextRetryAt() async throws -> Date? {
        let logger = self.logger
        return try await database.withConnection { connection in
            try await connection.query(
                "SELECT min(next_retry_at) FROM steps WHERE state = 'waiting_for_retry'", logger: logger
            ).collectFirst(Date?.self) ?? nil
        }
    }

    /// Handles attempts whose deadline passed `grace` seconds ago without a result: a running
    /// attempt fails as a timeout (and is retried by the usual rules); a dispatch nobody started
    /// is published again with a new deadline.
    public func sweepExpired(now: Date, grace: Double, limit: Int = 200) async throws -> [OutboxEntry] {
        try await tasks.inTransaction { connection in
            var expired: [(id: UUID, task: UUID, state: String, attempts: Int, name: String)] = []
            let rows = try await connection.query(
                """
                SELECT id, task_id, state, attempts, name FROM steps
                WHERE state IN ('enqueued', 'in_progress') AND deadline < \(now.addingTimeInterval(-grace))
                ORDER BY deadline LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """,
                logger: logger
            )
            for try await row in rows.decode((UUID, UUID, String, Int, String).self) { expired.append(row) }
            var messages: [OutboundMessage] = []
            let timeouts = expired.filter { $0.state == StepState.inProgress.rawValue }.map { step in
                StepResultMessage(
                    kind: .failed, taskID: step.task, stepID: step.id, stepName: step.name, attempt: step.attempts,
                    workerID: "sweeper", occurredAt: now,
                    errorMessage: "no result from the worker before the deadline (+\(Int(grace))s grace)",
                    errorKind: .timeout, errorClass: "DeadlineExceeded")
            }
            _ = try await applyResults(timeouts, now: now, on: connection, messages: &messages)
            let redispatch = expired.filter { $0.state != StepState.inProgress.rawValue }.map(\.id)
            let dispatches = try await dispatchData(redispatch, on: connection)
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
            messages += try dispatches.map { try OutboundMessage.dispatch($0.dispatch(now: now), topology: topology, messageID: UUID()) }
            return try await insertOutbox(messages, on: connection)
        }
    }
}
