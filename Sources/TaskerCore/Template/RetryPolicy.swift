/// How a step is retried after a failure.
public struct RetryPolicy: Sendable, Hashable, Codable {
    /// Whether a failed attempt may be retried at all. The first attempt always runs.
    public var retryable: Bool
    /// Executions allowed in total, the first one included.
    public var maxAttempts: Int
    /// The delay before the next attempt.
    public var backoff: BackoffPolicy

    public init(retryable: Bool = true, maxAttempts: Int = 3, backoff: BackoffPolicy = .init()) {
        self.retryable = retryable
        self.maxAttempts = maxAttempts
        self.backoff = backoff
    }

    /// Whether another attempt may start after `attempts` executions.
    ///
    /// The first attempt is always allowed, whatever `maxAttempts` and `retryable` say;
    /// later ones need `retryable` and `attempts < maxAttempts`.
    public func allowsAttempt(after attempts: Int) -> Bool {
        if attempts == 0 { return true }
        return retryable && attempts < maxAttempts
    }
}
