public import Foundation
public import Logging
internal import Synchronization
public import TaskerCore
internal import TaskerTimers

/// Runs one step attempt and turns its outcome into the ``StepResultMessage`` to publish.
///
/// The executor does no I/O of its own: it looks the handler up, runs it against the
/// dispatch's timeout and reports. That makes it testable without a broker; the
/// ``WorkerService`` publishes what it returns.
///
/// - A handler that returns produces `.completed` with its results and `duration_ms`.
/// - A thrown ``StepFailure`` produces `.failed` with its kind (`retryable`/`permanent`) and
///   `retry_after_seconds`; any other error is `retryable` with its type name as `error_class`.
/// - An attempt that runs past `timeout_seconds` is cancelled and reported as `.failed` with
///   kind `timeout` ("timed out after Ns").
/// - An unknown handler name is a `permanent` failure.
///
/// ```swift
/// let executor = StepExecutor(registry: registry, workerID: "host:42")
/// let result = await executor.execute(dispatch, logger: logger)
/// ```
public struct StepExecutor: Sendable {
    /// The `error_class` reported when a step times out.
    public static let timeoutErrorClass = "StepTimeout"
    /// The `error_class` reported when no handler is registered under the dispatch's handler name.
    public static let unknownHandlerErrorClass = "HandlerNotFound"

    /// The handlers this executor can run.
    public var registry: HandlerRegistry
    /// Reported as `worker_id` in every result.
    public var workerID: String
    /// The wall clock, for `occurred_at` and `duration_ms` (injected by tests).
    public var now: @Sendable () -> Date

    /// Creates an executor.
    /// - Parameters:
    ///   - registry: The handlers it can run.
    ///   - workerID: The worker's identity, reported with every result.
    ///   - now: The clock used for timestamps and durations.
    public init(registry: HandlerRegistry, workerID: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.registry = registry
        self.workerID = workerID
        self.now = now
    }

    /// The `step.started` message for `dispatch`, published before the handler runs.
    public func started(_ dispatch: StepDispatch) -> StepResultMessage {
        StepResultMessage(
            kind: .started,
            taskID: dispatch.taskID,
            stepID: dispatch.stepID,
            stepName: dispatch.stepName,
            attempt: dispatch.attempt,
            workerID: workerID,
            occurredAt: now()
        )
    }

    /// Runs the handler for `dispatch` and returns the `step.completed` or `step.failed` message.
    ///
    /// The handler runs in a task of its own, cancelled when `timeoutSeconds` pass (no limit
    /// when it is not positive) or when this call's task is cancelled. A handler that ignores
    /// cancellation delays the result until it returns, but its output is discarded after a
    /// timeout.
    /// - Parameters:
    ///   - dispatch: The step attempt to run.
    ///   - logger: The base logger; the handler gets a copy with the step's metadata.
    public func execute(_ dispatch: StepDispatch, logger: Logger) async -> StepResultMessage {
        await execute(dispatch, logger: logger, cancellation: nil)
    }

    /// ``execute(_:logger:)`` whose handler an operator can also cancel, through `cancellation`.
    func execute(_ dispatch: StepDispatch, logger: Logger, cancellation: AttemptCancellation?) async -> StepResultMessage {
        let step = StepContext(dispatch: dispatch, logger: logger)
        let start = now()
        guard let handler = registry.handler(named: dispatch.handler) else {
            return failed(
                dispatch,
                start: start,
                message: "no handler registered for '\(dispatch.handler)'",
                kind: .permanent,
                errorClass: Self.unknownHandlerErrorClass
            )
        }
        let outcome = await Self.run(handler, step: step, timeoutSeconds: dispatch.timeoutSeconds, cancellation: cancellation)
        switch outcome {
        case .value(let results):
            var message = result(.completed, dispatch, start: start)
            message.results = results
            return message
        case .timedOut:
            return failed(
                dispatch,
                start: start,
                message: "timed out after \(Self.format(seconds: dispatch.timeoutSeconds))s",
                kind: .timeout,
                errorClass: Self.timeoutErrorClass
            )
        case .error(let failure as StepFailure):
            let kind: FailureKind = failure.code == .permanent ? .permanent : .retryable
            var message = failed(dispatch, start: start, message: failure.message, kind: kind, errorClass: "StepFailure")
            if failure.code == .retryAfter { message.retryAfterSeconds = failure.retryAfterSeconds }
            return message
        case .error(let error):
            return failed(
                dispatch,
                start: start,
                message: String(describing: error),
                kind: .retryable,
                errorClass: String(describing: type(of: error))
            )
        }
    }

    // MARK: - Running

    private enum Outcome: Sendable {
        case value(JSONValue)
        case error(any Error)
        case timedOut
    }

    /// Runs the handler in a task of its own, which a timer of the shared ``TimerQueue`` (after
    /// `timeoutSeconds`), `cancellation` and the cancellation of the caller's task cancel.
    /// One task per attempt: no task group, no sleeping task for the timeout.
    private static func run(
        _ handler: any StepHandler, step: StepContext, timeoutSeconds: Double, cancellation: AttemptCancellation?
    ) async -> Outcome {
        let work = Task { () async -> Outcome in
            do { return .value(try await handler.handle(step)) } catch { return .error(error) }
        }
        cancellation?.onCancel { work.cancel() }
        let timedOut = TimeoutFlag()
        let timer: TimerQueue.Timer? = timeoutSeconds > 0 && timeoutSeconds.isFinite
            ? TimerQueue.shared.schedule(after: .seconds(timeoutSeconds)) {
                timedOut.value.store(true, ordering: .sequentiallyConsistent)
                work.cancel()
            }
            : nil
        let outcome = await withTaskCancellationHandler {
            await work.value
        } onCancel: {
            work.cancel()
        }
        if let timer { TimerQueue.shared.cancel(timer) }
        return timedOut.value.load(ordering: .sequentiallyConsistent) ? .timedOut : outcome
    }

    /// Set by an attempt's timeout timer.
    private final class TimeoutFlag: Sendable {
        let value = Atomic(false)
    }

    // MARK: - Messages

    private func result(_ kind: StepResultMessage.Kind, _ dispatch: StepDispatch, start: Date) -> StepResultMessage {
        let end = now()
        return StepResultMessage(
            kind: kind,
            taskID: dispatch.taskID,
            stepID: dispatch.stepID,
            stepName: dispatch.stepName,
            attempt: dispatch.attempt,
            workerID: workerID,
            occurredAt: end,
            startedAt: start,
            durationMs: max(0, end.timeIntervalSince(start) * 1000)
        )
    }

    private func failed(
        _ dispatch: StepDispatch,
        start: Date,
        message: String,
        kind: FailureKind,
        errorClass: String
    ) -> StepResultMessage {
        var result = result(.failed, dispatch, start: start)
        result.errorMessage = message
        result.errorKind = kind
        result.errorClass = errorClass
        return result
    }

    /// `30` for whole seconds, `0.5` otherwise.
    static func format(seconds: Double) -> String {
        if seconds.rounded() == seconds, abs(seconds) < 1e15 { return String(Int64(seconds)) }
        return String(seconds)
    }
}
