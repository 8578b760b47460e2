import Logging
import CoreMetrics

/// Connecting, reconnecting after a loss, and closing.
extension ConnectionDriver {
    /// Opens a connection to the first endpoint that answers, trying each once, starting with
    /// ``endpointIndex``; throws the last failure when none does.
    func connect() throws {
        let endpoints = configuration.endpoints
        var lastError: (any Error)?
        for offset in endpoints.indices {
            let index = (endpointIndex + offset) % endpoints.count
            do {
                connection = try CConnection.open(configuration: configuration.aimed(at: endpoints[index]), logger: logger)
            } catch {
                if endpoints.count > 1 {
                    logger.debug("amqp node unreachable", metadata: ["amqp.host": "\(endpoints[index])", AMQPLogKey.error: "\(error)"])
                }
                lastError = error
                continue
            }
            endpointIndex = index
            core.setEndpoint(endpoints[index])
            // The publish channel was just put in confirm mode: the broker numbers from 1 again.
            confirms.restartNumbering()
            return
        }
        throw lastError ?? AMQPError(code: .connectionFailed, message: "no broker endpoint configured")
    }

    func destroyConnection() {
        connection = nil
    }

    /// Reconnects with backoff; returns `false` (after tearing down) if the driver must end.
    func reconnect() -> Bool {
        guard configuration.reconnect.enabled, closeRequests.isEmpty else {
            teardown(AMQPError(code: .connectionClosed, message: "the connection was lost"))
            return false
        }
        var backoff = ReconnectBackoff(policy: configuration.reconnect)
        while true {
            let delay = backoff.nextDelay()
            let attempt = backoff.attempts
            logger.debug("amqp reconnect scheduled", metadata: [AMQPLogKey.attempt: "\(attempt)", AMQPLogKey.delay: "\(delay)"])
            if !waitWhileDisconnected(delay) {
                teardown(AMQPError(code: .clientClosed, message: "the connection was closed"))
                return false
            }
            do {
                try connect()
                try restoreTopology()
                try resumeConsumers()
                core.setConnected(true, reconnected: everConnected)
                if everConnected { core.metrics.reconnects.increment() }
                everConnected = true
                logger.debug("amqp reconnected", metadata: [AMQPLogKey.attempt: "\(attempt)"])
                return true
            } catch {
                let error = (error as? ConnectionLost)?.error ?? error
                logger.debug("amqp reconnect failed", metadata: [AMQPLogKey.attempt: "\(attempt)", AMQPLogKey.error: "\(error)"])
                destroyConnection()
            }
        }
    }

    /// Sleeps `delay` while disconnected, still answering close/cancel and dropping stale acks.
    /// Returns `false` if a close was requested.
    private func waitWhileDisconnected(_ delay: Duration) -> Bool {
        let deadline = ContinuousClock.now + delay
        var deferred: [Command] = []
        defer { core.requeueFront(deferred) }
        while true {
            for command in core.takeCommands() {
                switch command {
                case .close(let continuation):
                    closeRequests.append(continuation)
                case .ack, .nack, .reject:
                    logger.trace("amqp acknowledgement dropped while disconnected")
                case .cancel(let tag, let continuation):
                    if let consumer = consumers.removeValue(forKey: tag) { consumer.stream.finish() }
                    continuation?.resume()
                default:
                    deferred.append(command)
                }
            }
            if !closeRequests.isEmpty { return false }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return true }
            waitForActivity(timeoutMilliseconds: Int32(max(1, min(500, remaining.seconds * 1000))))
        }
    }

    private func restoreTopology() throws {
        let connection = try live
        for exchange in topology.exchanges {
            do { try connection.declareExchange(exchange) } catch let error as AMQPError {
                logger.debug("amqp redeclare failed", metadata: [AMQPLogKey.exchange: "\(exchange.name)", AMQPLogKey.error: "\(error)"])
            }
        }
        let queues = topology.queues
        for queue in queues {
            do { _ = try connection.declareQueue(queue) } catch let error as AMQPError {
                logger.debug("amqp redeclare failed", metadata: [AMQPLogKey.queue: "\(queue.name)", AMQPLogKey.error: "\(error)"])
            }
        }
        for binding in topology.bindings {
            do { try connection.bind(binding) } catch let error as AMQPError {
                logger.debug("amqp rebind failed", metadata: [AMQPLogKey.queue: "\(binding.queue)", AMQPLogKey.error: "\(error)"])
            }
        }
        logger.debug(
            "amqp topology restored",
            metadata: [
                "amqp.exchanges": "\(topology.exchanges.count)", "amqp.queues": "\(queues.count)",
                "amqp.bindings": "\(topology.bindings.count)",
            ]
        )
    }

    private func resumeConsumers() throws {
        channels.reset()
        for consumer in consumers.values.sorted(by: { $0.tag < $1.tag }) {
            do {
                try startConsumer(consumer)
                logger.debug("amqp consumer resumed", metadata: [AMQPLogKey.consumerTag: "\(consumer.tag)", AMQPLogKey.queue: "\(consumer.queue)"])
            } catch let error as AMQPError {
                logger.debug("amqp consumer resume failed", metadata: [AMQPLogKey.consumerTag: "\(consumer.tag)", AMQPLogKey.error: "\(error)"])
                consumers[consumer.tag] = nil
                consumer.stream.finish(throwing: error)
            }
        }
    }

    /// Forgets the lost connection: unconfirmed publishes fail with a retryable error and every
    /// consumer loses its channel (acks for its deliveries are stale from now on).
    func connectionLost(_ error: AMQPError) {
        logger.debug("amqp connection lost", metadata: [AMQPLogKey.error: "\(error)", "amqp.unconfirmed": "\(confirms.count)"])
        core.setConnected(false)
        // Reconnect starting with the next node of the cluster: this one may be the one that failed.
        endpointIndex = (endpointIndex + 1) % configuration.endpoints.count
        destroyConnection()
        failPendingConfirms(
            AMQPError(
                code: .connectionClosed, replyCode: error.replyCode,
                message: "connection lost before the broker confirmed the message: \(error.message)"
            )
        )
        for consumer in consumers.values {
            consumer.channel = 0
        }
        channels.reset()
    }

    func failPendingConfirms(_ error: AMQPError) {
        for target in confirms.failAll() {
            target.complete(.failure(error))
        }
    }

    /// Ends the driver: fails everything still waiting and resumes close requests.
    func teardown(_ error: AMQPError) {
        destroyConnection()
        failPendingConfirms(error)
        let remaining = core.finish(error: error.code == .clientClosed ? nil : error)
        for consumer in consumers.values {
            if error.code == .clientClosed { consumer.stream.finish() } else { consumer.stream.finish(throwing: error) }
        }
        consumers = [:]
        channels.reset()
        for command in remaining {
            if case .close(let continuation) = command { closeRequests.append(continuation) } else { command.fail(error) }
        }
        let requests = closeRequests
        closeRequests = []
        for request in requests { request?.resume() }
    }

    /// Cancels consumers (waiting for cancel-ok), waits for outstanding confirms, sends queued
    /// acknowledgements, then closes the connection.
    func gracefulClose() {
        logger.debug("amqp closing", metadata: ["amqp.consumers": "\(consumers.count)", "amqp.unconfirmed": "\(confirms.count)"])
        // An unresponsive broker must not hold the close up for the full RPC timeout.
        connection?.setRPCTimeout(min(configuration.closeTimeout, configuration.rpcTimeout))
        do {
            for consumer in consumers.values.sorted(by: { $0.tag < $1.tag }) {
                try cancelConsumer(consumer, finishStream: false)
            }
            try readFrames(limit: Int.max)
            for consumer in consumers.values { consumer.stream.finish() }
            let deadline = ContinuousClock.now + configuration.closeTimeout
            while !confirms.isEmpty && ContinuousClock.now < deadline {
                try processCommands()
                try readFrames(limit: 256)
                if !confirms.isEmpty { waitForActivity(timeoutMilliseconds: 50) }
            }
            try processCommands()
            for channel in channels.attachedChannels { connection?.closeChannel(channel) }
            connection?.close()
            logger.debug("amqp closed")
        } catch {
            logger.debug("amqp close interrupted", metadata: [AMQPLogKey.error: "\(error)"])
        }
        consumers = [:]
        teardown(AMQPError(code: .clientClosed, message: "the connection was closed"))
    }
}
