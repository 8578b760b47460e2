import Foundation
import Logging
import PostgresNIO
import TaskerAMQP

/// What interrupted benchmark runs left behind, removed at the start of the next run.
///
/// A run removes its tasks, templates, exchanges and queues when it ends; one that was killed or
/// failed leaves them (see ``BenchRunNames``). Such runs are found by their templates'
/// namespaces; only runs whose templates are older than `age` are removed, so a benchmark
/// running at the same time keeps its own.
struct BenchLeftovers {
    let client: PostgresClient
    let amqp: AMQPConfiguration
    let logger: Logger

    /// Removes the runs older than `age`; returns how many.
    func removeRuns(olderThan age: Duration) async throws -> Int {
        let seconds = Double(age.components.seconds)
        let rows = try await client.query(
            """
            SELECT DISTINCT namespace FROM task_templates
            WHERE namespace LIKE 'bench\\_%' AND created_at < now() - make_interval(secs => \(seconds))
            """,
            logger: logger)
        var runs: Set<BenchRunNames> = []
        for try await namespace in rows.decode(String.self) {
            if let run = BenchRunNames(namespace: namespace) { runs.insert(run) }
        }
        guard !runs.isEmpty else { return 0 }
        try await BenchRunNames.removeData(of: Array(runs), client: client, logger: logger)
        try await AMQPConnection.withConnection(configuration: amqp, logger: logger) { connection in
            for run in runs { await run.removeTopology(on: connection) }
        }
        return runs.count
    }
}
