import Foundation
import Synchronization
import TaskerCore

/// The step attempts this worker is running, so that a ``StepCancellation`` can stop one:
/// ``run(_:_:)`` hands the attempt's body an ``AttemptCancellation`` that ``cancel(_:)``
/// triggers (the body cancels its handler's task). Attempts cancelled before their dispatch
/// arrives are remembered (the most recent ``rememberedLimit``) and never started.
///
/// Cancelling is never needed for correctness: the step is already `cancelled` in the
/// database, so a result that is reported anyway is ignored by the finalizer.
final class RunningSteps: Sendable {
    struct Key: Hashable, Sendable {
        var stepID: UUID
        var attempt: Int
    }

    /// How many cancellations of attempts not (yet) running are remembered.
    static let rememberedLimit = 1_000

    private struct State {
        /// Running attempts, each with a cancellation per run (a redelivered dispatch may run twice).
        var running: [Key: [ObjectIdentifier: AttemptCancellation]] = [:]
        var cancelled: Set<Key> = []
        var cancelledOrder: [Key] = []
    }

    private let state = Mutex(State())

    /// Runs `body` (the attempt's execution) unless the attempt was cancelled; returns its
    /// result, or `nil` when the attempt was cancelled before or while it ran (then there is
    /// nothing to report). `body` runs in the caller's task; it stops its work when the
    /// cancellation it is given fires.
    func run(_ dispatch: StepDispatch, _ body: (AttemptCancellation) async -> StepResultMessage) async -> StepResultMessage? {
        let key = Key(stepID: dispatch.stepID, attempt: dispatch.attempt)
        let cancellation = AttemptCancellation()
        let token = ObjectIdentifier(cancellation)
        let alreadyCancelled = state.withLock { state -> Bool in
            if state.cancelled.contains(key) { return true }
            state.running[key, default: [:]][token] = cancellation
            return false
        }
        if alreadyCancelled { return nil }
        let result = await body(cancellation)
        state.withLock { state in
            state.running[key]?[token] = nil
            if state.running[key]?.isEmpty == true { state.running[key] = nil }
        }
        return cancellation.isCancelled ? nil : result
    }

    /// Cancels the attempt if it runs here, and remembers it so that a dispatch arriving
    /// later is not started. Returns whether it was running.
    @discardableResult
    func cancel(_ key: Key) -> Bool {
        let running = state.withLock { state -> [AttemptCancellation] in
            if state.cancelled.insert(key).inserted {
                state.cancelledOrder.append(key)
                if state.cancelledOrder.count > Self.rememberedLimit {
                    state.cancelled.remove(state.cancelledOrder.removeFirst())
                }
            }
            return state.running[key].map { Array($0.values) } ?? []
        }
        for cancellation in running { cancellation.cancel() }
        return !running.isEmpty
    }

    /// How many attempts are running (for tests).
    var count: Int { state.withLock { $0.running.values.reduce(0) { $0 + $1.count } } }
}
