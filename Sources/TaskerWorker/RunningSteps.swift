import Foundation
import Synchronization
import TaskerCore

/// The step attempts this worker is running, so that a ``StepCancellation`` can stop one:
/// ``run(_:_:)`` runs a handler in a child task that ``cancel(_:)`` cancels. Attempts cancelled
/// before their dispatch arrives are remembered (the most recent ``rememberedLimit``) and
/// never started.
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
        /// Running attempts, each with a signal per run (a redelivered dispatch may run twice).
        var running: [Key: [UUID: AsyncStream<Void>.Continuation]] = [:]
        var cancelled: Set<Key> = []
        var cancelledOrder: [Key] = []
    }

    private let state = Mutex(State())

    /// Runs `body` (the attempt's execution) unless the attempt was cancelled; returns its
    /// result, or `nil` when the attempt was cancelled before or while it ran (then there is
    /// nothing to report).
    func run(_ dispatch: StepDispatch, _ body: @escaping @Sendable () async -> StepResultMessage) async -> StepResultMessage? {
        let key = Key(stepID: dispatch.stepID, attempt: dispatch.attempt)
        let token = UUID.random()
        let (signal, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let alreadyCancelled = state.withLock { state -> Bool in
            if state.cancelled.contains(key) { return true }
            state.running[key, default: [:]][token] = continuation
            return false
        }
        if alreadyCancelled { return nil }
        defer {
            state.withLock { state in
                state.running[key]?[token] = nil
                if state.running[key]?.isEmpty == true { state.running[key] = nil }
            }
            continuation.finish()
        }
        return await withTaskGroup(of: StepResultMessage?.self) { group in
            group.addTask { await body() }
            group.addTask {
                for await _ in signal { return nil }
                return nil
            }
            var cancelled = false
            while let next = await group.next() {
                if let result = next {
                    group.cancelAll()
                    return cancelled ? nil : result
                }
                // The signal fired (or the worker itself is being cancelled): stop the handler
                // and wait for it to return.
                cancelled = cancelled || !Task.isCancelled
                group.cancelAll()
            }
            return nil
        }
    }

    /// Cancels the attempt if it runs here, and remembers it so that a dispatch arriving
    /// later is not started. Returns whether it was running.
    @discardableResult
    func cancel(_ key: Key) -> Bool {
        let signals = state.withLock { state -> [AsyncStream<Void>.Continuation] in
            if state.cancelled.insert(key).inserted {
                state.cancelledOrder.append(key)
                if state.cancelledOrder.count > Self.rememberedLimit {
                    state.cancelled.remove(state.cancelledOrder.removeFirst())
                }
            }
            return state.running[key].map { Array($0.values) } ?? []
        }
        for signal in signals { signal.yield() }
        return !signals.isEmpty
    }

    /// How many attempts are running (for tests).
    var count: Int { state.withLock { $0.running.values.reduce(0) { $0 + $1.count } } }
}
