internal import Synchronization

/// Whether a step's `step.started` report was sent: skipped when the handler finished before
/// the report delay, otherwise published (or failed) before the result may go out.
final class StartReport: Sendable {
    private enum Phase {
        case waiting
        case skipped
        case publishing
        case published
        case failed(any Error)
    }

    private let phase = Mutex(Phase.waiting)

    /// The delay passed: returns `true` if the report should be published now.
    func begin() -> Bool {
        phase.withLock { phase in
            guard case .waiting = phase else { return false }
            phase = .publishing
            return true
        }
    }

    func finish(failure: (any Error)?) {
        phase.withLock { $0 = failure.map { .failed($0) } ?? .published }
    }

    /// The handler finished: returns `true` if the report had not started (it never will).
    func skip() -> Bool {
        phase.withLock { phase in
            guard case .waiting = phase else { return false }
            phase = .skipped
            return true
        }
    }

    /// Why publishing the report failed, if it did.
    var failure: (any Error)? {
        phase.withLock { phase in
            if case .failed(let error) = phase { return error }
            return nil
        }
    }
}
