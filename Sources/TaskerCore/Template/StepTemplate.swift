/// One step of a task template: a node of the workflow DAG.
public struct StepTemplate: Sendable, Hashable, Codable {
    /// Unique within its template.
    public var name: String
    /// The registered name of the step handler that runs it.
    public var handler: String
    public var description: String?
    /// Names of the parent steps.
    public var dependsOn: [String]
    public var retry: RetryPolicy
    /// How long one attempt may run before it counts as a retryable "timed out" failure.
    public var timeoutSeconds: Double
    /// Passed verbatim to the handler.
    public var handlerConfig: JSONValue

    /// The longest duration a template may give (`timeout_seconds`, `retry.base_seconds`,
    /// `retry.max_seconds`): 365 days. Longer ones cannot be turned into a `Duration` or a
    /// database timestamp (`1e300` seconds traps), so the loader refuses them, and a worker
    /// refuses a dispatch with a longer `timeout_seconds`.
    public static let maxDurationSeconds: Double = 365 * 24 * 3600

    public init(
        name: String,
        handler: String,
        description: String? = nil,
        dependsOn: [String] = [],
        retry: RetryPolicy = .init(),
        timeoutSeconds: Double = 300,
        handlerConfig: JSONValue = .object([:])
    ) {
        self.name = name
        self.handler = handler
        self.description = description
        self.dependsOn = dependsOn
        self.retry = retry
        self.timeoutSeconds = timeoutSeconds
        self.handlerConfig = handlerConfig
    }
}
