internal import Synchronization

/// A step's `step.started` report: skipped when the handler finishes before the report delay,
/// otherwise published (or failed) before the result may go out.
///
/// The delay is a timer of the shared `TimerQueue` that calls ``fire(_:)``; a step that
/// finishes first costs no task and no publish.
final class StartReport: Sendable {
    private enum Phase {
        case waiting
        case skipped
        /// The report's publish, and its error if it failed.
        case publishing(Task<(any Error)?, Never>)
    }

    private let phase = Mutex(Phase.waiting)

    /// The delay passed: publishes the report with `publish`, unless the handler finished.
    func fire(_ publish: @escaping @Sendable () async throws -> Void) {
        phase.withLock { phase in
            guard case .waiting = phase else { return }
            phase = .publishing(Task {
                do {
                    try await publish()
                    return nil
                } catch {
                    return error
                }
            })
        }
    }

    /// The handler finished: no report is published from now on. Waits for one being published
    /// (cancelling the caller cancels it), and returns why publishing it failed, if it did.
    func finish() async -> (any Error)? {
        let publishing = phase.withLock { phase -> Task<(any Error)?, Never>? in
            switch phase {
            case .waiting:
                phase = .skipped
                return nil
            case .skipped:
                return nil
            case .publishing(let task):
                return task
            }
        }
        guard let publishing else { return nil }
        return await withTaskCancellationHandler {
            await publishing.value
        } onCancel: {
            publishing.cancel()
        }
    }
}
