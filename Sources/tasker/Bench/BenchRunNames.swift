import Foundation
import Logging
import PostgresNIO
import TaskerAMQP
import TaskerCore
import TaskerWire

/// The names one benchmark run uses, all derived from a random suffix: namespaces
/// `bench_<suffix>` (diamonds, linear, fan-outs) and `bench_nap_<suffix>` (the scaling tasks),
/// topology prefixes `bench-<suffix>` (the in-process pipeline) and `benchp-<suffix>` (the
/// `processes` scenario). A run removes what carries them when it ends; ``BenchLeftovers`` finds
/// the names of runs that could not by their namespaces.
struct BenchRunNames: Hashable, Sendable {
    let suffix: String

    /// Names for a new run.
    static func fresh() -> BenchRunNames { BenchRunNames(suffix: UUID().uuidString.prefix(8).lowercased()) }

    private init(suffix: String) { self.suffix = suffix }

    /// The run that `namespace` belongs to, or `nil` for a namespace that is not a benchmark's.
    init?(namespace: String) {
        for prefix in ["bench_nap_", "bench_"] where namespace.hasPrefix(prefix) {
            let suffix = namespace.dropFirst(prefix.count)
            guard !suffix.isEmpty, !suffix.contains("_") else { return nil }
            self.init(suffix: String(suffix))
            return
        }
        return nil
    }

    var namespace: String { "bench_\(suffix)" }
    var napNamespace: String { "bench_nap_\(suffix)" }
    var namespaces: [String] { [namespace, napNamespace] }
    var topology: WireTopology { WireTopology(prefix: "bench-\(suffix)") }
    var processTopology: WireTopology { WireTopology(prefix: "benchp-\(suffix)") }

    /// Deletes the tasks (with their steps and audit trails) and the templates of `runs`, in one
    /// transaction: every coordinator loads every registered template when it starts. (The audit
    /// trails are append-only; `tasker.allow_purge` lets this transaction delete them.)
    static func removeData(of runs: [BenchRunNames], client: PostgresClient, logger: Logger) async throws {
        let namespaces = runs.flatMap(\.namespaces)
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SET LOCAL tasker.allow_purge = 'on'", logger: logger)
            try await connection.query("DELETE FROM tasks WHERE namespace = ANY(\(namespaces))", logger: logger)
            try await connection.query("DELETE FROM task_templates WHERE namespace = ANY(\(namespaces))", logger: logger)
        }
    }

    /// Deletes the run's exchanges and queues: each quorum queue left behind keeps a Raft member
    /// busy in the broker, and later runs measured slower and slower.
    func removeTopology(on connection: AMQPConnection) async {
        for topology in [topology, processTopology] {
            await TaskerTopology.delete(on: connection, topology: topology, namespaces: namespaces)
        }
    }
}
