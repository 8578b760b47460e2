public import TaskerCore

/// The step handlers a worker can run, by handler name (the `handler:` field of a step template).
///
/// ```swift
/// var registry = HandlerRegistry()
/// registry.register("ValidateOrder", ValidateOrder())
/// registry.register("noop") { _ in [:] }
/// let worker = WorkerService(configuration: configuration, registry: registry, logger: logger)
/// ```
public struct HandlerRegistry: Sendable {
    private var handlers: [String: any StepHandler] = [:]

    /// An empty registry.
    public init() {}

    /// Registers `handler` under `name`.
    ///
    /// - Precondition: no handler is registered under `name` yet (registering twice is a programming error).
    public mutating func register(_ name: String, _ handler: some StepHandler) {
        precondition(handlers[name] == nil, "a step handler named '\(name)' is already registered")
        handlers[name] = handler
    }

    /// Registers a closure as the handler named `name`.
    ///
    /// - Precondition: no handler is registered under `name` yet.
    public mutating func register(_ name: String, _ body: @escaping @Sendable (StepContext) async throws -> JSONValue) {
        register(name, ClosureStepHandler(body))
    }

    /// The handler registered under `name`, if any.
    public func handler(named name: String) -> (any StepHandler)? {
        handlers[name]
    }

    /// The registered handler names, sorted.
    public var names: [String] { handlers.keys.sorted() }

    /// Whether a handler is registered under `name`.
    public func contains(_ name: String) -> Bool { handlers[name] != nil }
}
