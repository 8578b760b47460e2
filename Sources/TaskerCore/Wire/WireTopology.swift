/// The names of every exchange, queue and routing key Tasker uses (docs/wire-protocol.md).
///
/// A `prefix` (default `tasker`) lets several independent installations, or test runs,
/// share one broker.
public struct WireTopology: Sendable, Hashable {
    public var prefix: String

    public init(prefix: String = "tasker") {
        self.prefix = prefix
    }

    /// Topic exchange for task requests; routing key `<namespace>.<name>`.
    public var requestsExchange: String { "\(prefix).requests" }
    /// Queue the coordinators share.
    public var requestsQueue: String { "\(prefix).requests.coordinator" }
    /// Topic exchange for lifecycle events; routing key = event name.
    public var eventsExchange: String { "\(prefix).events" }
    /// Direct exchange for step dispatch; routing key = template namespace.
    public var stepsExchange: String { "\(prefix).steps" }
    /// The worker queue for a namespace.
    public func stepsQueue(namespace: String) -> String { "\(prefix).steps.\(namespace)" }
    /// Direct exchange for step results from workers; routing key ``resultsRoutingKey``.
    public var resultsExchange: String { "\(prefix).results" }
    public var resultsRoutingKey: String { "step.result" }
    /// Queue the finalizers share.
    public var resultsQueue: String { "\(prefix).results.finalizer" }
    /// Queue the reenqueuers share, bound to `step.retry_scheduled` events.
    public var reenqueueQueue: String { "\(prefix).reenqueuer" }
    /// Direct exchange for control messages to workers (``StepCancellation``); routing key =
    /// template namespace. Each worker binds a private queue for its namespaces.
    public var controlExchange: String { "\(prefix).control" }
    /// A worker's private control queue (exclusive, deleted with its connection).
    public func controlQueue(worker: String) -> String { "\(prefix).control.\(worker)" }
    /// Fanout exchange that dead-letters undecodable messages.
    public var deadLetterExchange: String { "\(prefix).dead" }
    /// Where undecodable messages end up, with the reason in their `x-death` and `x-tasker-error` header.
    public var deadLetterQueue: String { "\(prefix).dead" }

    /// Routing key of a task request.
    public func requestRoutingKey(namespace: String, name: String) -> String { "\(namespace).\(name)" }
}
