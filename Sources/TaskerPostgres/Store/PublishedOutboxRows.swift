internal import Synchronization

/// Outbox rows whose messages the broker confirmed, waiting to be deleted.
///
/// Instead of a statement (and a commit) of its own after every publish, the rows are deleted
/// by the next batch's write call, in its transaction; a service that goes idle deletes them on
/// its next flush (``PostgresStore/flushPublishedOutbox()``). A row whose deletion is lost (a
/// crash) is published again by the relay: delivery is at-least-once.
final class PublishedOutboxRows: Sendable {
    private let ids = Mutex<[Int64]>([])

    func add(_ rows: some Sequence<Int64>) {
        ids.withLock { $0.append(contentsOf: rows) }
    }

    /// Takes every pending row; give them back with ``add(_:)`` if they were not deleted.
    func take() -> [Int64] {
        ids.withLock { pending in
            defer { pending = [] }
            return pending
        }
    }
}
