internal import Synchronization
internal import TaskerTimers

/// A step's `step.started` report: published once the step has run for the report delay (at
/// once when the delay is zero), skipped when the handler finishes first, and published (or
/// failed) before the result may go out.
///
/// The delay is a timer of a ``TimerQueue`` (the shared one unless given): a step that finishes
/// first costs no task and no publish.
final class StartReport: Sendable {
    private enum Phase {
        case waiting
        case skipped
        /// The report's publish, and its error if it failed.
        case publishing(Task<(any Error)?, Never>)
    }

    private let phase = Mutex(Phase.waiting)
    private let publish: @Sendable () async throws -> Void
    private let timers: TimerQueue
    private let timer = Mutex<TimerQueue.Timer?>(nil)

    /// Starts the delay: `publish` runs when it has passed, unless ``finish()`` came first. With
    /// no delay it runs now, so every start is reported, before the handler runs.
    init(after delay: Duration, timers: TimerQueue = .shared, publish: @escaping @Sendable () async throws -> Void) {
        self.publish = publish
        self.timers = timers
        guard delay > .zero else {
            fire()
            return
        }
        let scheduled = timers.schedule(after: delay) { [self] in fire() }
        timer.withLock { $0 = scheduled }
    }

    /// The delay passed: publishes the report, unless the handler finished.
    private func fire() {
        phase.withLock { phase in
            guard case .waiting = phase else { return }
            phase = .publishing(Task { [publish] in
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
        if let scheduled = timer.withLock({ $0 }) { timers.cancel(scheduled) }
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
