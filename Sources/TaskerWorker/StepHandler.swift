public import TaskerCore

/// The code that runs one step: receives a ``StepContext`` and returns the step's results.
///
/// Throw a ``StepFailure`` to choose how the failure is treated (retryable, permanent, or
/// retryable after a delay); any other error is a retryable failure whose type name becomes
/// the `error_class`. The handler runs inside a child task that is cancelled when the step
/// times out or the worker is forced to stop, so long-running handlers should check
/// `Task.isCancelled` / call `Task.checkCancellation()` or use cancellable APIs such as `Task.sleep`.
///
/// ```swift
/// struct Greet: StepHandler {
///     func handle(_ step: StepContext) async throws -> JSONValue {
///         guard let name = step.context["name"]?.stringValue else { throw StepFailure.permanent("context.name is missing") }
///         return ["greeting": .string("hello \(name)")]
///     }
/// }
/// ```
public protocol StepHandler: Sendable {
    /// Runs one attempt of a step and returns its results (stored as the step's `results`).
    func handle(_ step: StepContext) async throws -> JSONValue
}

/// A ``StepHandler`` backed by a closure.
///
/// ```swift
/// registry.register("noop", ClosureStepHandler { _ in [:] })
/// ```
public struct ClosureStepHandler: StepHandler {
    private let body: @Sendable (StepContext) async throws -> JSONValue

    /// Wraps `body` as a handler.
    public init(_ body: @escaping @Sendable (StepContext) async throws -> JSONValue) {
        self.body = body
    }

    public func handle(_ step: StepContext) async throws -> JSONValue {
        try await body(step)
    }
}
