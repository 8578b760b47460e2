public import TaskerWorker

/// The reference step handlers, for tests, demos and benchmarks.
///
/// | handler | does |
/// |---|---|
/// | `square` | ``SquareHandler``: squares its input modulo ``prime`` (the reference workflows) |
/// | `noop` | ``NoopHandler``: returns `{}` |
/// | `sleep` | ``SleepHandler``: sleeps `handler_config.ms` or `context.sleep_ms` milliseconds, returns `{}` |
///
/// Every one of them first applies ``FailureInjection``, driven by the task context, so a test
/// can make any step fail or sleep. All keys are optional:
///
/// | context key | effect on the named steps |
/// |---|---|
/// | `"fail_once": ["step_name", ...]` | attempt 1 fails with a retryable error; later attempts succeed |
/// | `"fail_times": {"step_name": N}` | the first N attempts fail with a retryable error |
/// | `"always_fail": ["step_name", ...]` | every attempt fails with a retryable error |
/// | `"fail_permanently": ["step_name", ...]` | fails with a permanent error (never retried) |
/// | `"sleep_ms": {"step_name": ms}` | sleeps `ms` before answering (cancellable, so timeouts work) |
/// | `"retry_after": {"step_name": seconds}` | attempt 1 fails asking for a retry after `seconds` |
///
/// ```swift
/// var registry = HandlerRegistry()
/// ExampleHandlers.register(in: &registry)
/// // context: {"even_number": 2, "fail_once": ["step_2"], "sleep_ms": {"step_3": 50}}
/// ```
public enum ExampleHandlers {
    /// The modulus of the reference workflows: 1,000,000,007.
    public static let prime: Int64 = 1_000_000_007

    /// Registers `square`, `noop` and `sleep` in `registry`.
    public static func register(in registry: inout HandlerRegistry) {
        registry.register("square", SquareHandler())
        registry.register("noop", NoopHandler())
        registry.register("sleep", SleepHandler())
    }

    /// `x * x mod p`, for any `x` (reduced into `0..<p` first, so the product fits in 63 bits).
    public static func square(_ x: Int64) -> Int64 {
        let r = reduce(x)
        return (r * r) % prime
    }

    /// `a * b mod p`, for any `a` and `b`.
    public static func multiply(_ a: Int64, _ b: Int64) -> Int64 {
        (reduce(a) * reduce(b)) % prime
    }

    /// `x` reduced into `0..<p`.
    static func reduce(_ x: Int64) -> Int64 {
        let r = x % prime
        return r < 0 ? r + prime : r
    }
}
