public import Logging
public import ServiceLifecycle

/// A connection to a RabbitMQ broker, owned by a dedicated thread.
///
/// Open one with ``withConnection(configuration:logger:isolation:_:)``; the connection is closed
/// gracefully when the closure returns. All methods may be called concurrently from any task.
///
/// ```swift
/// let configuration = try AMQPConfiguration(url: "amqp://tasker:tasker@127.0.0.1:5673/%2f")
/// try await AMQPConnection.withConnection(configuration: configuration, logger: logger) { connection in
///     _ = try await connection.declare(AMQPQueue(name: "work", type: .quorum))
///     try await connection.publish(Array("hello".utf8), routingKey: "work")
///     for try await delivery in try await connection.consume(queue: "work", prefetch: 100) {
///         try delivery.ack()
///     }
/// }
/// ```
///
/// The librabbitmq connection never leaves its thread. That thread polls the socket and a wake
/// eventfd (with a timeout of half the heartbeat, so heartbeats are serviced while idle),
/// executes queued commands, and resumes continuations. When the connection drops it reconnects
/// with exponential backoff and jitter, re-declares the topology declared through it and
/// resumes its consumers; publishes that were awaiting a confirm fail with a retryable error.
///
/// The connection can also run as a swift-service-lifecycle `Service`: create it with
/// ``init(configuration:logger:)`` and add it to a `ServiceGroup`; see ``run()``.
public final class AMQPConnection: Sendable, Service {
    let core: ConnectionCore

    private init(core: ConnectionCore) {
        self.core = core
    }

    /// Creates a connection that connects when ``run()`` is called (for a `ServiceGroup`).
    public convenience init(configuration: AMQPConfiguration, logger: Logger) throws {
        self.init(core: try ConnectionCore(configuration: configuration, logger: logger))
    }

    /// Runs the connection until graceful shutdown or task cancellation, then closes it gracefully.
    ///
    /// Nothing is sent before `run()` is running: operations called earlier wait for the first
    /// connection. A failed first attempt is retried with the reconnect policy. Throws only if the
    /// connection ends for good on its own (reconnect disabled and the connection lost).
    /// - Important: Call it once, and not on a connection from ``withConnection(configuration:logger:isolation:_:)``.
    public func run() async throws {
        precondition(core.markStarted(), "AMQPConnection.run() called on a connection that is already running")
        ConnectionDriver.start(core: core, startup: nil)
        let core = self.core
        let error = await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await core.waitUntilFinished()
            } onGracefulShutdown: {
                core.submit(.close(nil))
            }
        } onCancel: {
            core.submit(.close(nil))
        }
        if let error { throw error }
    }

    /// Connects, runs `body` with the connection, then closes it gracefully.
    ///
    /// The first connection is retried with the reconnect backoff for up to
    /// ``AMQPConfiguration/startupTimeout`` (each failure logged at warning), then the last
    /// failure is thrown; later connection losses are handled by reconnecting (see
    /// ``AMQPConfiguration/reconnect``).
    public static func withConnection<Result>(
        configuration: AMQPConfiguration,
        logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (AMQPConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await openRetrying(configuration: configuration, logger: logger)
        let result: Result
        do {
            result = try await body(connection)
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        return result
    }

    /// ``open(configuration:logger:)``, retried until ``AMQPConfiguration/startupTimeout`` passes.
    static func openRetrying(configuration: AMQPConfiguration, logger: Logger) async throws -> AMQPConnection {
        let giveUp = ContinuousClock.now + (configuration.startupTimeout ?? .zero)
        var backoff = ReconnectBackoff(policy: configuration.reconnect)
        while true {
            do {
                let connection = try await open(configuration: configuration, logger: logger)
                if backoff.attempts > 0 { logger.info("connected to the broker", metadata: ["amqp.attempts": "\(backoff.attempts + 1)"]) }
                return connection
            } catch let error as AMQPError {
                let delay = backoff.nextDelay()
                guard ContinuousClock.now + delay < giveUp else { throw error }
                logger.warning(
                    "broker unreachable at start; retrying",
                    metadata: [
                        "amqp.host": "\(configuration.endpointList)", "amqp.retry_in": "\(delay)",
                        "amqp.error": "\(error)",
                    ])
                try await Task.sleep(for: delay)
            }
        }
    }

    static func open(configuration: AMQPConfiguration, logger: Logger) async throws -> AMQPConnection {
        let core = try ConnectionCore(configuration: configuration, logger: logger)
        _ = core.markStarted()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            ConnectionDriver.start(core: core, startup: continuation)
        }
        return AMQPConnection(core: core)
    }

    /// Whether the connection is currently established (false while reconnecting).
    public var isConnected: Bool { core.isConnected }

    /// The broker node the connection is (or was last) connected to: one of the configuration's
    /// ``AMQPConfiguration/endpoints``.
    public var connectedEndpoint: AMQPEndpoint? { core.endpoint }

    /// How many times the connection was re-established after a loss.
    public var reconnectCount: Int { core.reconnects }

    // MARK: Topology

    /// Declares an exchange (idempotent; it is re-declared after a reconnect).
    public func declare(_ exchange: AMQPExchange) async throws {
        try await withCheckedThrowingContinuation { core.submit(.declareExchange(exchange, $0)) }
    }

    /// Declares a queue (idempotent; it is re-declared after a reconnect).
    ///
    /// Re-declaring an existing queue with different arguments fails with
    /// ``AMQPError/Code-swift.struct/channelClosed`` and reply code 406; the connection stays usable.
    @discardableResult
    public func declare(_ queue: AMQPQueue) async throws -> AMQPQueueInfo {
        try await withCheckedThrowingContinuation { core.submit(.declareQueue(queue, $0)) }
    }

    /// Binds a queue to an exchange (re-bound after a reconnect).
    public func bind(_ binding: AMQPBinding) async throws {
        try await withCheckedThrowingContinuation { core.submit(.bind(binding, $0)) }
    }

    /// Declares exchanges, then queues, then bindings.
    public func declare(exchanges: [AMQPExchange] = [], queues: [AMQPQueue] = [], bindings: [AMQPBinding] = []) async throws {
        for exchange in exchanges { try await declare(exchange) }
        for queue in queues { try await declare(queue) }
        for binding in bindings { try await bind(binding) }
    }

    /// The message and consumer counts of an existing queue (passive declare).
    public func queueInfo(_ name: String) async throws -> AMQPQueueInfo {
        try await withCheckedThrowingContinuation { core.submit(.queueInfo(name, $0)) }
    }

    /// Deletes a queue.
    public func deleteQueue(_ name: String) async throws {
        try await withCheckedThrowingContinuation { core.submit(.deleteQueue(name, $0)) }
    }

    /// Deletes an exchange.
    public func deleteExchange(_ name: String) async throws {
        try await withCheckedThrowingContinuation { core.submit(.deleteExchange(name, $0)) }
    }

    /// Removes all ready messages from a queue and returns how many were removed.
    @discardableResult
    public func purgeQueue(_ name: String) async throws -> Int {
        try await withCheckedThrowingContinuation { core.submit(.purgeQueue(name, $0)) }
    }

    // MARK: Publishing

    /// Publishes a message and returns once the broker confirmed it (publisher confirms).
    ///
    /// Any number of publishes may be in flight at once; their confirms are pipelined.
    /// Throws ``AMQPError`` with code `.nacked` if the broker refuses it, `.unroutable` if it is
    /// `mandatory` and no queue is bound, and `.connectionClosed` (retryable) if the connection
    /// is lost before the confirm arrives. A message that throws must be assumed not sent
    /// (it may still have been delivered: publishing is at-least-once).
    ///
    /// A `mandatory` message carries an extra `x-tasker-publish-seq` header used to match a
    /// basic.return to its publish.
    public func publish(
        _ body: [UInt8],
        exchange: String = "",
        routingKey: String,
        properties: AMQPProperties = .init(),
        mandatory: Bool = false
    ) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            core.submit(
                .publish(
                    PublishRequest(
                        exchange: exchange, routingKey: routingKey, body: body, properties: properties, mandatory: mandatory,
                        continuation: continuation
                    )
                )
            )
        }
    }

    /// Publishes several messages at once, with their confirms pipelined, and returns when every
    /// one of them is confirmed or failed.
    ///
    /// This is the cheapest way to publish many messages: one call (and one wake-up of the
    /// connection thread) for the whole batch. Each result has the same meaning as the outcome of
    /// ``publish(_:exchange:routingKey:properties:mandatory:)`` for that message.
    /// - Returns: One result per message, in order.
    public func publish(contentsOf messages: [AMQPMessage]) async -> [Result<Void, AMQPError>] {
        await withCheckedContinuation { continuation in
            core.submit(.publishBatch(PublishBatchRequest(messages: messages, continuation: continuation)))
        }
    }

    // MARK: Consuming

    /// Starts a consumer with manual acknowledgement on its own channel.
    ///
    /// - Parameters:
    ///   - queue: The queue to consume.
    ///   - prefetch: basic.qos prefetch count: how many unacknowledged deliveries the broker sends.
    ///   - consumerTag: The consumer tag; a unique one is generated when `nil`.
    /// - Returns: The deliveries as an `AsyncSequence`. Cancel with ``AMQPConsumer/cancel()``.
    public func consume(queue: String, prefetch: UInt16 = 100, consumerTag: String? = nil) async throws -> AMQPConsumer {
        let tag = consumerTag ?? "\(core.name).\(UInt64.random(in: 0...UInt64.max))"
        let (stream, streamContinuation) = AsyncThrowingStream<AMQPDelivery, any Error>.makeStream()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            core.submit(
                .consume(ConsumeRequest(queue: queue, prefetch: prefetch, tag: tag, stream: streamContinuation, continuation: continuation))
            )
        }
        let connectionCore = self.core
        connectionCore.consumerCountChanged(by: 1)
        streamContinuation.onTermination = { termination in
            connectionCore.consumerCountChanged(by: -1)
            if case .cancelled = termination { connectionCore.submit(.cancel(tag: tag, nil)) }
        }
        return AMQPConsumer(tag: tag, queue: queue, stream: stream, core: core)
    }

    // MARK: Closing

    /// Closes the connection gracefully: cancels consumers and waits for cancel-ok, sends the
    /// acknowledgements queued so far, waits (up to ``AMQPConfiguration/closeTimeout``) for
    /// outstanding publisher confirms, then closes. Safe to call more than once.
    public func close() async {
        await withCheckedContinuation { core.submit(.close($0)) }
    }
}
