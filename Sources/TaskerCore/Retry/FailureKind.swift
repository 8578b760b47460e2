/// How a step attempt failed. Raw values are the `error_kind` strings on the wire.
public enum FailureKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// May be retried if attempts remain (the default for a thrown error).
    case retryable
    /// Never retried.
    case permanent
    /// The attempt ran past its timeout; retried like a retryable failure.
    case timeout
}

/// What happens to a step after a failed attempt.
public enum RetryDecision: Sendable, Hashable {
    /// Run again after `delaySeconds`.
    case retry(delaySeconds: Double)
    /// Give up: the step ends in `error`.
    case giveUp(reason: String)

    /// Decides from the step's policy, the attempt that failed (1-based) and the kind of failure.
    public static func decide(
        policy: RetryPolicy,
        failedAttempt: Int,
        kind: FailureKind,
        requestedDelaySeconds: Double? = nil,
        using generator: inout some RandomNumberGenerator
    ) -> RetryDecision {
        if kind == .permanent { return .giveUp(reason: "permanent failure") }
        if !policy.retryable { return .giveUp(reason: "step is not retryable") }
        if !policy.allowsAttempt(after: failedAttempt) {
            return .giveUp(reason: "attempts exhausted (\(failedAttempt) of \(policy.maxAttempts))")
        }
        let delay = policy.backoff.delay(afterAttempt: failedAttempt, requested: requestedDelaySeconds, using: &generator)
        return .retry(delaySeconds: delay)
    }
}
