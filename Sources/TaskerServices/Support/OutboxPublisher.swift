internal import Foundation
internal import Logging
internal import Tracing
internal import TaskerCore
internal import TaskerPostgres
internal import TaskerWire

/// Publishes committed outbox rows with pipelined confirms, then marks them for deletion (the
/// store's next batch deletes them in its own transaction; ``ServiceBootstrap`` flushes them
/// when the service is idle).
///
/// A row whose publish fails stays in the outbox; the relay in the reenqueuer republishes
/// it later, so a commit is never followed by a lost message.
struct OutboxPublisher: Sendable {
    let wire: WirePublisher
    let store: PostgresStore
    let logger: Logger

    /// Publishes `entries` concurrently and marks the rows the broker confirmed for deletion;
    /// the others stay for the relay.
    /// - Parameter traces: Trace contexts by task; a message about one of these tasks carries it
    ///   in its headers (a dispatch's step attempt then continues that trace).
    func publish(_ entries: [OutboxEntry], traces: [UUID: ServiceContext] = [:]) async {
        guard !entries.isEmpty else { return }
        let confirmed = await publishEach(entries, traces: traces)
        let rows = Set(entries.map(\.id))
        if confirmed.count < rows.count {
            logger.debug("outbox rows not published; the relay will retry", metadata: ["tasker.outbox.rows": "\(rows.count - confirmed.count)"])
        }
        store.deleteOutboxLater(confirmed)
    }

    /// Publishes every entry (all in flight at once) and returns the outbox rows all of whose
    /// messages the broker confirmed; a row with a failed message stays, whole, for the relay
    /// (its other messages go out again: delivery is at-least-once).
    func publishEach(_ entries: [OutboxEntry], traces: [UUID: ServiceContext] = [:]) async -> Set<Int64> {
        var confirmed = Set(entries.map(\.id))
        var delivered: [OutboundMessage] = []
        defer {
            PipelineMetrics.published(delivered, stepsExchange: wire.topology.stepsExchange)
            PipelineMetrics.publishFailed(entries.count - delivered.count)
        }
        for (entry, failure) in zip(entries, await wire.publishAll(entries.map(\.message), traces: traces)) {
            guard let failure else {
                delivered.append(entry.message)
                continue
            }
            confirmed.remove(entry.id)
            logger.debug(
                "outbox row not published",
                metadata: ["tasker.outbox.id": "\(entry.id)", "amqp.exchange": "\(entry.message.exchange)", LogKeys.error: "\(failure)"])
        }
        return confirmed
    }
}
