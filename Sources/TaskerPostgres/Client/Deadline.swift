internal import Synchronization
internal import TaskerTimers

/// A database call that did not finish in time. The call was cancelled and abandoned: its
/// transaction commits or rolls back on its own, which the callers' idempotent writes allow.
public struct DatabaseTimeout: Error, Sendable, CustomStringConvertible {
    /// What was running (`transaction`, `query`, ...).
    public let operation: String
    /// The deadline it missed.
    public let timeout: Duration
    public var description: String { "database \(operation) did not finish within \(timeout)" }
}

/// Runs an operation with a deadline that holds even when the operation ignores cancellation.
///
/// A structured race (a task group) would wait for a child that never returns, which is exactly
/// the hang this guards against; so the operation runs in its own task, and the caller is
/// resumed by whichever finishes first: the operation, the timer, or the caller's cancellation.
/// The loser is cancelled and not awaited. The timer is one of the process's shared
/// ``TimerQueue`` (a lock and a heap entry, not a sleeping task per call).
package enum Deadline {
    package static func run<Result: Sendable>(
        _ timeout: Duration,
        operation: String,
        _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let race = Race<Result>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.begin(continuation)
                let work = Task {
                    do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
                }
                let timer = TimerQueue.shared.schedule(after: timeout) {
                    race.finish(.failure(DatabaseTimeout(operation: operation, timeout: timeout)))
                }
                race.attach(work: work, timer: timer)
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }
}

/// The continuation of one ``Deadline/run(_:operation:_:)`` call, resumed exactly once.
private final class Race<Result: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result, any Error>?
        var outcome: Swift.Result<Result, any Error>?
        var work: Task<Void, Never>?
        var timer: TimerQueue.Timer?
    }

    private let state = Mutex(State())

    func begin(_ continuation: CheckedContinuation<Result, any Error>) {
        let early: Swift.Result<Result, any Error>? = state.withLock { state in
            if let outcome = state.outcome { return outcome }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func attach(work: Task<Void, Never>, timer: TimerQueue.Timer) {
        let finished = state.withLock { state in
            state.work = work
            state.timer = timer
            return state.outcome != nil
        }
        if finished {
            work.cancel()
            TimerQueue.shared.cancel(timer)
        }
    }

    /// Resumes the caller with `outcome` unless it was resumed already; cancels the other tasks.
    func finish(_ outcome: Swift.Result<Result, any Error>) {
        let (continuation, work, timer): (CheckedContinuation<Result, any Error>?, Task<Void, Never>?, TimerQueue.Timer?) =
            state.withLock { state in
                guard state.outcome == nil else { return (nil, nil, nil) }
                state.outcome = outcome
                defer { state.continuation = nil }
                return (state.continuation, state.work, state.timer)
            }
        work?.cancel()
        if let timer { TimerQueue.shared.cancel(timer) }
        continuation?.resume(with: outcome)
    }
}
