internal import Metrics

/// The database client's swift-metrics instruments (docs/operations.md, "Metrics").
///
/// - `tasker.db.call.duration` (timer), dimensions `operation` (`transaction`, `connection`,
///   `query`) and `outcome` (`ok`, `error`: the statement failed, `unavailable`: the database
///   could not be reached, `timeout`: the call missed ``Database/callTimeout``).
/// - `tasker.db.timeouts` (counter), dimension `operation`: calls that missed their deadline.
/// - `tasker.db.ready` (gauge): 1 while the last call or probe succeeded, 0 otherwise.
/// - `tasker.db.stale_batches` (counter): optimistic finalizer batches whose write call found a
///   task changed since their read, and that ran again with locks (``RefusedBatch``).
enum DatabaseMetrics {
    static func call(_ operation: String, outcome: String, started: ContinuousClock.Instant) {
        Timer(label: "tasker.db.call.duration", dimensions: [("operation", operation), ("outcome", outcome)])
            .record(duration: ContinuousClock.now - started)
        if outcome == "timeout" { Counter(label: "tasker.db.timeouts", dimensions: [("operation", operation)]).increment() }
    }

    /// Creates the counters at zero and the gauge at 0, so their series exist before the first event.
    static func prime() {
        for operation in ["transaction", "connection", "query"] {
            Counter(label: "tasker.db.timeouts", dimensions: [("operation", operation)]).increment(by: 0)
        }
        Gauge(label: "tasker.db.ready").record(0)
        Counter(label: "tasker.db.stale_batches").increment(by: 0)
    }

    static func staleBatch() {
        Counter(label: "tasker.db.stale_batches").increment()
    }

    static func ready(_ ready: Bool) {
        Gauge(label: "tasker.db.ready").record(ready ? 1 : 0)
    }
}
