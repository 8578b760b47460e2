internal import Logging
internal import TaskerCore
internal import TaskerPostgres

/// Handles a batch whole and, if that fails, each element alone: one bad element (or one the
/// database refuses) cannot hold the others back, and only the elements that fail alone are
/// handed to `failed` (typically: returned to the queue). When the database is unavailable
/// (unreachable, or the batch missed its deadline) the whole batch is handed back at once:
/// another instance, or this one later, takes it; one by one would only wait out more deadlines.
enum BatchFallback {
    /// How long a batch slot rests after the database was unavailable.
    static let unavailablePause = Duration.milliseconds(500)

    static func run<Element: Sendable>(
        _ batch: [Element],
        logger: Logger,
        handle: ([Element]) async throws -> Void,
        failed: (Element, any Error) -> Void
    ) async {
        guard !batch.isEmpty else { return }
        do {
            try await handle(batch)
        } catch {
            if Database.isUnavailable(error) {
                for element in batch { failed(element, error) }
                // Hold this batch slot a moment so redeliveries do not spin against a database that is down.
                try? await Task.sleep(for: unavailablePause)
                return
            }
            guard batch.count > 1 else { return failed(batch[0], error) }
            logger.debug("batch failed; handling its elements one by one", metadata: [LogKeys.error: "\(String(reflecting: error))"])
            for element in batch {
                do {
                    try await handle([element])
                } catch {
                    failed(element, error)
                }
            }
        }
    }
}
