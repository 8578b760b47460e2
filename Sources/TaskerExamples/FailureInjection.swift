import TaskerCore
public import TaskerWorker

/// Failures and delays injected through the task context, for tests and demos.
///
/// All keys are optional and name steps by their template name:
/// - `"fail_once": ["step_name", ...]`: attempt 1 fails with a retryable error, later attempts succeed;
/// - `"fail_times": {"step_name": N}`: the first N attempts fail with a retryable error;
/// - `"always_fail": ["step_name", ...]`: every attempt fails with a retryable error;
/// - `"fail_permanently": ["step_name", ...]`: fails with a permanent error;
/// - `"sleep_ms": {"step_name": ms}`: sleeps `ms` milliseconds first (cancellable, so timeouts work);
/// - `"retry_after": {"step_name": seconds}`: attempt 1 fails with ``StepFailure/retryAfter(seconds:_:)``.
///
/// The sleep happens before any failure, so a sleeping step can also time out.
public enum FailureInjection {
    /// Sleeps and/or throws as the step's task context asks.
    public static func apply(to step: StepContext) async throws {
        let name = step.stepName
        let context = step.context

        if let milliseconds = context["sleep_ms"]?[name]?.intValue, milliseconds > 0 {
            try await Task.sleep(for: .milliseconds(milliseconds))
        }
        if contains(context["fail_permanently"], name) {
            throw StepFailure.permanent("injected permanent failure of '\(name)'")
        }
        if contains(context["always_fail"], name) {
            throw StepFailure.retryable("injected failure of '\(name)' (always_fail, attempt \(step.attempt))")
        }
        if contains(context["fail_once"], name), step.attempt <= 1 {
            throw StepFailure.retryable("injected failure of '\(name)' (fail_once, attempt \(step.attempt))")
        }
        if let times = context["fail_times"]?[name]?.intValue, step.attempt <= times {
            throw StepFailure.retryable("injected failure of '\(name)' (fail_times \(times), attempt \(step.attempt))")
        }
        if let seconds = context["retry_after"]?[name]?.doubleValue, step.attempt <= 1 {
            throw StepFailure.retryAfter(seconds: seconds, "injected failure of '\(name)' (retry_after \(seconds)s)")
        }
    }

    private static func contains(_ list: JSONValue?, _ name: String) -> Bool {
        list?.arrayValue?.contains(.string(name)) ?? false
    }
}
