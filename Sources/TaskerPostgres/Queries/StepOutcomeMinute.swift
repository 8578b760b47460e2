public import Foundation
internal import PostgresNIO

/// How many step attempts ended in one minute, by outcome (from the steps' audit trail).
public struct StepOutcomeMinute: Sendable, Hashable {
    /// The minute's start.
    public var minute: Date
    /// Transitions to `complete`.
    public var completed: Int
    /// Transitions to `error`: the step failed for good (permanently, or out of attempts).
    public var failed: Int
    /// Transitions to `waiting_for_retry`: an attempt failed and another is scheduled.
    public var retried: Int

    public init(minute: Date, completed: Int, failed: Int, retried: Int) {
        self.minute = minute
        self.completed = completed
        self.failed = failed
        self.retried = retried
    }
}

extension TaskQueries {
    /// Step outcomes per minute over the last `minutes` minutes (the current one included),
    /// oldest first, one entry per minute (zeros included). Reads the partial index
    /// `step_transitions_outcomes_by_time` of migration 0011.
    public func stepOutcomesPerMinute(minutes: Int = 60) async throws -> [StepOutcomeMinute] {
        let span = max(1, minutes) - 1
        let rows = try await database.query(
            """
            WITH outcomes AS (
                SELECT date_trunc('minute', created_at) AS minute, to_state, count(*) AS n
                FROM step_transitions
                WHERE created_at >= date_trunc('minute', now()) - \(span)::int4 * interval '1 minute'
                  AND to_state IN ('complete', 'error', 'waiting_for_retry')
                GROUP BY 1, 2
            )
            SELECT m.minute,
                   COALESCE(sum(o.n) FILTER (WHERE o.to_state = 'complete'), 0)::int8 AS completed,
                   COALESCE(sum(o.n) FILTER (WHERE o.to_state = 'error'), 0)::int8 AS failed,
                   COALESCE(sum(o.n) FILTER (WHERE o.to_state = 'waiting_for_retry'), 0)::int8 AS retried
            FROM generate_series(date_trunc('minute', now()) - \(span)::int4 * interval '1 minute', date_trunc('minute', now()),
                                 interval '1 minute') AS m(minute)
            LEFT JOIN outcomes o ON o.minute = m.minute
            GROUP BY m.minute
            ORDER BY m.minute
            """)
        var result: [StepOutcomeMinute] = []
        for row in rows {
            let r = row.makeRandomAccess()
            result.append(StepOutcomeMinute(
                minute: try r["minute"].decode(Date.self), completed: Int(try r["completed"].decode(Int64.self)),
                failed: Int(try r["failed"].decode(Int64.self)), retried: Int(try r["retried"].decode(Int64.self))))
        }
        return result
    }
}
