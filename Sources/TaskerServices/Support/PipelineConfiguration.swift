public import TaskerAMQP
public import TaskerCore

/// Settings the orchestration services share.
public struct PipelineConfiguration: Sendable {
    /// The broker; each service opens one connection to consume and one to publish.
    public var amqp: AMQPConfiguration
    /// Exchange and queue names.
    public var topology: WireTopology
    /// Batches a coordinator or finalizer handles at once (each in its own transaction).
    public var concurrency: Int
    /// The most messages a coordinator or finalizer handles in one transaction. Batches form by
    /// themselves: each takes what arrived while the previous ones ran, so an idle service
    /// handles one message at a time and never waits to fill a batch.
    public var batchSize: Int
    /// Extra time after a step's deadline before the sweeper fails (or re-dispatches) it.
    public var sweeperGraceSeconds: Double
    /// How often the reenqueuer sweeps expired steps and relays stale outbox rows.
    public var maintenanceIntervalSeconds: Double
    /// Outbox rows older than this are republished by the relay (their writer crashed or failed to publish).
    public var outboxRelayAfterSeconds: Double
    /// How often the reenqueuer reads the outbox backlog and the queues' depths for the metrics.
    public var metricsIntervalSeconds: Double = 5
    /// How long a service started during an outage waits for the database and the broker
    /// (retrying with backoff, logged) before it gives up and exits; zero: it exits at once.
    public var startupTimeout: Duration = .seconds(300)
    /// Which lifecycle events are published (`TASKER_LIFECYCLE_EVENTS`).
    public var lifecycleEvents: LifecycleEventSelection = .task
    /// Time and ids (the system's unless a test injects its own).
    public var clock: WorkflowClock = .system

    public init(
        amqp: AMQPConfiguration,
        topology: WireTopology = .init(),
        concurrency: Int = 2,
        batchSize: Int = 200,
        sweeperGraceSeconds: Double = 30,
        maintenanceIntervalSeconds: Double = 1,
        outboxRelayAfterSeconds: Double = 5
    ) {
        self.amqp = amqp
        self.topology = topology
        self.concurrency = concurrency
        self.batchSize = batchSize
        self.sweeperGraceSeconds = sweeperGraceSeconds
        self.maintenanceIntervalSeconds = maintenanceIntervalSeconds
        self.outboxRelayAfterSeconds = outboxRelayAfterSeconds
    }

    /// The consumer prefetch of a batching service: enough for the batches in flight plus the next one.
    var batchPrefetch: UInt16 {
        UInt16(clamping: max(1, batchSize) * (max(1, concurrency) + 1))
    }

    /// The same settings with a connection name, so the broker's connection list says who is who.
    func named(_ name: String) -> AMQPConfiguration {
        var configuration = amqp
        configuration.connectionName = name
        configuration.startupTimeout = startupTimeout
        return configuration
    }
}
