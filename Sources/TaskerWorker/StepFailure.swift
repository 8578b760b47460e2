/// An error a ``StepHandler`` throws to say how its failure should be treated.
///
/// ```swift
/// throw StepFailure.permanent("order \(id) does not exist")          // never retried
/// throw StepFailure.retryable("inventory service unavailable")       // retried with backoff
/// throw StepFailure.retryAfter(seconds: 30, "rate limited")          // retried after 30 s
/// ```
///
/// Any other error a handler throws is treated like ``retryable(_:)``.
public struct StepFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// How the failure is treated.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case retryable, permanent, retryAfter
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// May be retried if attempts remain, after the step's backoff delay.
        public static let retryable = Code(.retryable)
        /// Never retried: the step ends in `error`.
        public static let permanent = Code(.permanent)
        /// May be retried after ``StepFailure/retryAfterSeconds`` (capped by the engine at one hour).
        public static let retryAfter = Code(.retryAfter)

        public var description: String {
            switch base {
            case .retryable: "retryable"
            case .permanent: "permanent"
            case .retryAfter: "retryAfter"
            }
        }
    }

    /// How the failure is treated.
    public var code: Code
    /// A human-readable reason, reported as the step's `error_message`.
    public var message: String
    /// The delay requested before the next attempt (for ``Code-swift.struct/retryAfter``).
    public var retryAfterSeconds: Double?

    /// Creates a failure; prefer the static factories.
    public init(code: Code, message: String, retryAfterSeconds: Double? = nil) {
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// A failure that may be retried with the step's backoff.
    public static func retryable(_ message: String) -> StepFailure {
        StepFailure(code: .retryable, message: message)
    }

    /// A failure that is never retried.
    public static func permanent(_ message: String) -> StepFailure {
        StepFailure(code: .permanent, message: message)
    }

    /// A retryable failure whose next attempt should wait `seconds` (e.g. an upstream `Retry-After`).
    public static func retryAfter(seconds: Double, _ message: String) -> StepFailure {
        StepFailure(code: .retryAfter, message: message, retryAfterSeconds: seconds)
    }

    public var description: String {
        if let retryAfterSeconds {
            return "StepFailure(\(code), retry after \(retryAfterSeconds)s): \(message)"
        }
        return "StepFailure(\(code)): \(message)"
    }
}
