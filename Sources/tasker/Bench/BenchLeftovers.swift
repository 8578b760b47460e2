import Foundation
import Logging
import PostgresNIO
import TaskerAMQP
import TaskerCore
import TaskerWire

/// What interrupted benchmark runs left behind, removed at the start of the next run.
///
/// A run removes its tasks, templates, exchanges and queues when it ends; one that was killed or
/// failed leaves them: templates every coordinator loads when it starts, and quorum queues that
/// each keep a Raft member busy in the broker (later runs measured slower and slower). A run's
/// names share a suffix: namespaces `bench_<suffix>` and `bench_nap_<suffix>`, topology prefixes
/// `bench-<suffix>` and `benchp-<suffix>`. Only runs whose templates are older than `age` are
/// removed, so a benchmark running at the same time keeps its own.
struct BenchLeftovers {
    let client: PostgresClient
    let amqp: AMQPConfiguration
    let logger: Logger

    /// The suffix of a benchmark namespace (`bench_<suffix>` or `bench_nap_<suffix>`), or `nil`.
    static func suffix(ofNamespace namespace: String) -> String? {
        for prefix in ["bench_nap_", "bench_"] where namespace.hasPrefix(prefix) {
            let suffix = namespace.dropFirst(prefix.count)
            return suffix.isEmpty || suffix.contains("_") ? nil : String(suffix)
        }
        return nil
    }

    /// The namespaces and topology prefixes of the run with `suffix`.
    static func names(ofSuffix suffix: String) -> (namespaces: [String], prefixes: [String]) {
        (["bench_\(suffix)", "bench_nap_\(suffix)"], ["bench-\(suffix)", "benchp-\(suffix)"])
    }

    /// Deletes the tasks (with their steps and audit trails) and the templates of `namespaces`.
    /// (The audit trails are append-only; `tasker.allow_purge` lets this transaction delete them.)
    static func removeNamespaces(_ namespaces: [String], client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SET LOCAL tasker.allow_purge = 'on'", logger: logger)
            try await connection.query("DELETE FROM tasks WHERE namespace = ANY(\(namespaces))", logger: logger)
            try await connection.query("DELETE FROM task_templates WHERE namespace = ANY(\(namespaces))", logger: logger)
        }
    }

    /// Removes the runs older than `age`; returns how many.
    func removeRuns(olderThan age: Duration) async throws -> Int {
        let seconds = Double(age.components.seconds)
        let rows = try await client.query(
            """
            SELECT DISTINCT namespace FROM task_templates
            WHERE namespace LIKE 'bench\\_%' AND created_at < now() - make_interval(secs => \(seconds))
            """,
            logger: logger)
        var suffixes: Set<String> = []
        for try await namespace in rows.decode(String.self) {
            if let suffix = Self.suffix(ofNamespace: namespace) { suffixes.insert(suffix) }
        }
        guard !suffixes.isEmpty else { return 0 }
        let runs = suffixes.sorted().map(Self.names(ofSuffix:))
        try await Self.removeNamespaces(runs.flatMap(\.namespaces), client: client, logger: logger)
        try await AMQPConnection.withConnection(configuration: amqp, logger: logger) { connection in
            for run in runs {
                for prefix in run.prefixes {
                    await TaskerTopology.delete(on: connection, topology: WireTopology(prefix: prefix), namespaces: run.namespaces)
                }
            }
        }
        return runs.count
    }
}
