public import TaskerCore
public import TaskerWorker

/// The handler `noop`: returns `{}` (after ``FailureInjection``).
public struct NoopHandler: StepHandler {
    public init() {}

    public func handle(_ step: StepContext) async throws -> JSONValue {
        try await FailureInjection.apply(to: step)
        return [:]
    }
}

/// The handler `sleep`: sleeps `handler_config.ms` milliseconds, else `context.sleep_ms` when it
/// is an integer, else not at all; returns `{}`. The sleep is cancellable.
/// ``FailureInjection`` applies first.
public struct SleepHandler: StepHandler {
    public init() {}

    public func handle(_ step: StepContext) async throws -> JSONValue {
        try await FailureInjection.apply(to: step)
        let milliseconds = step.config["ms"]?.intValue ?? step.context["sleep_ms"]?.intValue ?? 0
        if milliseconds > 0 {
            try await Task.sleep(for: .milliseconds(milliseconds))
        }
        return [:]
    }
}
