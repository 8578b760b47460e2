/// The delay before a retry: exponential with a cap and symmetric jitter.
///
/// Delay before attempt `n + 1` after attempt `n` failed: `min(base * 2^(n-1), max)`,
/// then multiplied by a random factor in `1 ± jitter`. A delay the handler asked for
/// (e.g. an upstream `Retry-After`) wins over the formula, capped at ``maxRequestedSeconds``.
public struct BackoffPolicy: Sendable, Hashable, Codable {
    public var baseSeconds: Double
    public var maxSeconds: Double
    /// Fraction of the delay used as +- jitter (0.1 = 10 %).
    public var jitter: Double

    /// Upper bound on a delay requested by a handler: one hour.
    public static let maxRequestedSeconds: Double = 3600

    public init(baseSeconds: Double = 1, maxSeconds: Double = 60, jitter: Double = 0.1) {
        self.baseSeconds = baseSeconds
        self.maxSeconds = maxSeconds
        self.jitter = jitter
    }

    /// The delay before the next attempt, before jitter, after `failedAttempt` (1-based) failed.
    public func baseDelay(afterAttempt failedAttempt: Int) -> Double {
        let exponent = max(0, failedAttempt - 1)
        guard exponent < 63 else { return maxSeconds }
        return min(baseSeconds * Double(1 << exponent), maxSeconds)
    }

    /// The delay in seconds before the next attempt.
    /// - Parameters:
    ///   - failedAttempt: the attempt that just failed, counting from 1.
    ///   - requested: a delay asked for by the handler, which wins over the formula.
    ///   - generator: the source of jitter; inject a seeded one in tests.
    public func delay(
        afterAttempt failedAttempt: Int,
        requested: Double? = nil,
        using generator: inout some RandomNumberGenerator
    ) -> Double {
        if let requested, requested >= 0 {
            return min(requested, Self.maxRequestedSeconds)
        }
        let base = baseDelay(afterAttempt: failedAttempt)
        guard jitter > 0 else { return base }
        let factor = Double.random(in: (1 - jitter)...(1 + jitter), using: &generator)
        return base * factor
    }
}
