internal import Synchronization

/// An operator's cancellation of one running attempt, handed from ``RunningSteps`` to the
/// code that runs the attempt's handler: that code says what cancelling means (cancel the
/// handler's task) with ``onCancel(_:)``, and ``RunningSteps`` calls ``cancel()``.
final class AttemptCancellation: Sendable {
    private enum State {
        case active([@Sendable () -> Void])
        case cancelled
    }

    private let state = Mutex(State.active([]))

    /// Runs `action` when the attempt is cancelled, or now if it already was.
    func onCancel(_ action: @escaping @Sendable () -> Void) {
        let cancelled = state.withLock { state -> Bool in
            guard case .active(var actions) = state else { return true }
            actions.append(action)
            state = .active(actions)
            return false
        }
        if cancelled { action() }
    }

    /// Cancels the attempt: runs the registered actions, once.
    func cancel() {
        let actions = state.withLock { state -> [@Sendable () -> Void] in
            guard case .active(let actions) = state else { return [] }
            state = .cancelled
            return actions
        }
        for action in actions { action() }
    }

    var isCancelled: Bool {
        state.withLock { state in
            if case .cancelled = state { return true }
            return false
        }
    }
}
