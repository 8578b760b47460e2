internal import Logging
internal import TaskerCore

/// Handles a batch whole and, if that fails, each element alone: one bad element (or one the
/// database refuses) cannot hold the others back, and only the elements that fail alone are
/// handed to `failed` (typically: returned to the queue).
enum BatchFallback {
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
