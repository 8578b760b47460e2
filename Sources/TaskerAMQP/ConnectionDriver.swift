import CRabbitMQ
import Foundation
import Glibc
import Logging
import CoreMetrics

/// Raised inside the driver when the connection (not just a channel) is unusable.
private struct ConnectionLost: Error {
    var error: AMQPError
    /// The command that hit the loss already completed its callers.
    var commandHandled = false
}

/// Runs on the connection's dedicated thread and owns the `amqp_connection_state_t`.
///
/// Nothing in this class is shared: it is created on the thread, used only there, and talks to
/// async callers through ``ConnectionCore`` (commands in) and continuations / streams (results out).
final class ConnectionDriver {
    private static let topologyChannel: amqp_channel_t = 1
    private static let publishChannel: amqp_channel_t = 2
    private static let firstConsumerChannel: amqp_channel_t = 3
    private static let publishSeqHeader = "x-tasker-publish-seq"

    private final class Consumer {
        let tag: String
        let queue: String
        let prefetch: UInt16
        let stream: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation
        var channel: amqp_channel_t = 0
        var generation: UInt64 = 0
        /// Delivery tags received and not yet settled, in order (from `unsettledHead`).
        var unsettled: [UInt64] = []
        var unsettledHead = 0
        /// Tags settled individually that are still in `unsettled`.
        var settledOutOfOrder: Set<UInt64> = []
        /// Tags the application acknowledged that have not been sent yet.
        var pendingAcks: Set<UInt64> = []

        func resetSettlement() {
            unsettled = []
            unsettledHead = 0
            settledOutOfOrder = []
            pendingAcks = []
        }

        /// Drops every tag up to and including `tag` from the unsettled list.
        func settle(upTo tag: UInt64) {
            while unsettledHead < unsettled.count && unsettled[unsettledHead] <= tag {
                settledOutOfOrder.remove(unsettled[unsettledHead])
                unsettledHead += 1
            }
            compact()
        }

        func compact() {
            if unsettledHead > 1024 && unsettledHead * 2 > unsettled.count {
                unsettled.removeFirst(unsettledHead)
                unsettledHead = 0
            }
        }

        init(tag: String, queue: String, prefetch: UInt16, stream: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation) {
            self.tag = tag
            self.queue = queue
            self.prefetch = prefetch
            self.stream = stream
        }
    }

    /// Results of a ``AMQPConnection/publish(contentsOf:)`` call, completed message by message.
    private final class PublishBatch {
        private var results: [Result<Void, AMQPError>?]
        private var remaining: Int
        private let continuation: CheckedContinuation<[Result<Void, AMQPError>], Never>

        init(count: Int, continuation: CheckedContinuation<[Result<Void, AMQPError>], Never>) {
            results = Array(repeating: nil, count: count)
            remaining = count
            self.continuation = continuation
            if count == 0 { continuation.resume(returning: []) }
        }

        func complete(_ index: Int, _ result: Result<Void, AMQPError>) {
            guard results[index] == nil else { return }
            results[index] = result
            remaining -= 1
            if remaining == 0 { continuation.resume(returning: results.map { $0! }) }
        }
    }

    private enum ConfirmTarget {
        case single(CheckedContinuation<Void, any Error>)
        case batch(PublishBatch, Int)

        func complete(_ result: Result<Void, AMQPError>) {
            switch self {
            case .single(let continuation): continuation.resume(with: result.mapError { $0 as any Error })
            case .batch(let batch, let index): batch.complete(index, result)
            }
        }
    }

    private struct PendingConfirm {
        var target: ConfirmTarget
        var returned: AMQPError?
    }

    private let core: ConnectionCore
    private let configuration: AMQPConfiguration
    private var logger: Logger
    private var conn: amqp_connection_state_t?
    private var socketFD: Int32 = -1

    // Publisher confirms on the publish channel.
    private var nextPublishSeq: UInt64 = 1
    private var oldestUnconfirmed: UInt64 = 1
    private var pending: [UInt64: PendingConfirm] = [:]

    // Consumers, by tag and by channel.
    private var consumers: [String: Consumer] = [:]
    private var consumerByChannel: [amqp_channel_t: Consumer] = [:]
    private var freeChannels: [amqp_channel_t] = []
    private var nextChannel: amqp_channel_t = firstConsumerChannel
    private var nextGeneration: UInt64 = 1

    // Topology recorded for re-declaration after a reconnect.
    private var exchanges: [String: AMQPExchange] = [:]
    private var queues: [String: AMQPQueue] = [:]
    private var bindings: [AMQPBinding] = []

    private var closeRequests: [CheckedContinuation<Void, Never>?] = []
    private var everConnected = false
    private var channelsWithPendingAcks: Set<amqp_channel_t> = []

    private init(core: ConnectionCore) {
        self.core = core
        self.configuration = core.configuration
        self.logger = core.logger
    }

    /// Starts the connection thread. `startup` is resumed once the first connection attempt
    /// succeeded (or failed: then the thread ends). Without `startup`, a failed first attempt is
    /// retried like a lost connection.
    static func start(core: ConnectionCore, startup: CheckedContinuation<Void, any Error>?) {
        let thread = Thread {
            let driver = ConnectionDriver(core: core)
            driver.run(startup: startup)
        }
        thread.name = "amqp-\(core.name)"
        thread.stackSize = 1 << 20
        thread.start()
    }

    // MARK: - Main loop

    private func run(startup: CheckedContinuation<Void, any Error>?) {
        do {
            try connect()
            everConnected = true
            core.setConnected(true)
            startup?.resume()
        } catch {
            let error = (error as? AMQPError) ?? AMQPError(code: .connectionFailed, message: "\(error)")
            logger.debug("amqp connect failed", metadata: [AMQPLogKey.error: "\(error)"])
            destroyConnection()
            if let startup {
                teardown(error)
                startup.resume(throwing: error)
                return
            }
        }

        while true {
            if conn == nil {
                if !reconnect() { break }
                continue
            }
            do {
                try processCommands()
                try readFrames(limit: 256)
                if !closeRequests.isEmpty {
                    gracefulClose()
                    break
                }
                if core.hasCommands || amqp_frames_enqueued(conn) != 0 || amqp_data_in_buffer(conn) != 0 { continue }
                waitForActivity(timeoutMilliseconds: pollTimeoutMilliseconds)
            } catch let lost as ConnectionLost {
                connectionLost(lost.error)
            } catch {
                connectionLost(AMQPError(code: .protocolError, message: "\(error)"))
            }
        }
    }

    private var pollTimeoutMilliseconds: Int32 {
        let heartbeat = configuration.heartbeat.seconds
        guard heartbeat > 0 else { return 500 }
        return Int32(max(50, min(500, heartbeat * 1000 / 2)))
    }

    private func waitForActivity(timeoutMilliseconds: Int32) {
        guard core.prepareToSleep() else { return }
        defer { core.didWake() }
        var fds = [
            pollfd(fd: core.wakeFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0),
        ]
        let count: nfds_t = socketFD >= 0 && conn != nil ? 2 : 1
        _ = poll(&fds, count, timeoutMilliseconds)
        if fds[0].revents & Int16(POLLIN) != 0 { core.drainWakeups() }
    }

    private func processCommands() throws {
        let commands = core.takeCommands()
        for (index, command) in commands.enumerated() {
            do {
                if case .ack(_, multiple: false) = command {} else { try flushAcks() }
                try execute(command)
            } catch let lost as ConnectionLost {
                if !lost.commandHandled { command.fail(lost.error) }
                core.requeueFront(Array(commands[(index + 1)...]))
                throw lost
            }
        }
        try flushAcks()
    }

    /// Sends the acknowledgements collected from a batch of commands. A run of acknowledged
    /// tags at the head of a consumer's unsettled deliveries becomes one `multiple` basic.ack;
    /// the others are sent one by one.
    private func flushAcks() throws {
        guard !channelsWithPendingAcks.isEmpty else { return }
        let channels = channelsWithPendingAcks
        channelsWithPendingAcks = []
        for channel in channels {
            guard let consumer = consumerByChannel[channel], !consumer.pendingAcks.isEmpty else { continue }
            var prefixEnd: UInt64?
            while consumer.unsettledHead < consumer.unsettled.count {
                let tag = consumer.unsettled[consumer.unsettledHead]
                if consumer.pendingAcks.remove(tag) != nil {
                    prefixEnd = tag
                } else if consumer.settledOutOfOrder.remove(tag) == nil {
                    break
                }
                consumer.unsettledHead += 1
            }
            consumer.compact()
            if let prefixEnd {
                try check(status: amqp_basic_ack(conn, channel, prefixEnd, 1), "basic.ack")
            }
            for tag in consumer.pendingAcks.sorted() {
                try check(status: amqp_basic_ack(conn, channel, tag, 0), "basic.ack")
                consumer.settledOutOfOrder.insert(tag)
            }
            consumer.pendingAcks = []
        }
    }

    // MARK: - Connecting

    private func connect() throws {
        guard let conn = amqp_new_connection() else {
            throw AMQPError(code: .connectionFailed, message: "amqp_new_connection failed")
        }
        self.conn = conn
        let socket: OpaquePointer?
        if let tls = configuration.tls {
            socket = amqp_ssl_socket_new(conn)
            if let socket {
                amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
                amqp_ssl_socket_set_verify_hostname(socket, tls.verifyHostname ? 1 : 0)
                if let path = tls.caCertificatePath {
                    let status = amqp_ssl_socket_set_cacert(socket, path)
                    guard status == 0 else {
                        throw AMQPError(code: .invalidConfiguration, message: "CA certificate: \(Self.statusString(status))")
                    }
                }
            }
        } else {
            socket = amqp_tcp_socket_new(conn)
        }
        guard let socket else { throw AMQPError(code: .connectionFailed, message: "cannot create socket") }

        var connectTimeout = configuration.connectTimeout.timeval
        let status = amqp_socket_open_noblock(socket, configuration.host, Int32(configuration.port), &connectTimeout)
        guard status == 0 else {
            throw AMQPError(
                code: .connectionFailed,
                message: "cannot connect to \(configuration.host):\(configuration.port): \(Self.statusString(status))"
            )
        }
        _ = amqp_set_handshake_timeout(conn, &connectTimeout)
        var rpcTimeout = configuration.rpcTimeout.timeval
        _ = amqp_set_rpc_timeout(conn, &rpcTimeout)

        let arena = CArena()
        var clientProperties: [String: AMQPFieldValue] = [
            "product": "tasker-swift",
            "capabilities": .table([
                "consumer_cancel_notify": true,
                "connection.blocked": true,
                "publisher_confirms": true,
                "basic.nack": true,
            ]),
        ]
        if let name = configuration.connectionName { clientProperties["connection_name"] = .string(name) }
        var table = arena.table(clientProperties)
        let heartbeat = configuration.heartbeat.seconds > 0 ? max(1, Int32(configuration.heartbeat.seconds.rounded())) : 0
        let reply = tasker_amqp_login_plain(
            conn, configuration.virtualHost, 0, Int32(configuration.frameMax), heartbeat, &table,
            configuration.username, configuration.password
        )
        if reply.reply_type != AMQP_RESPONSE_NORMAL {
            throw AMQPError(code: .connectionFailed, message: "login failed: \(describe(reply))")
        }
        socketFD = amqp_get_sockfd(conn)
        do {
            try openChannel(Self.topologyChannel)
            try openPublishChannel()
        } catch let lost as ConnectionLost {
            throw lost.error
        }
        logger.debug(
            "amqp connected",
            metadata: ["amqp.host": "\(configuration.host):\(configuration.port)", "amqp.heartbeat": "\(heartbeat)"]
        )
    }

    private func reconnect() -> Bool {
        guard configuration.reconnect.enabled, closeRequests.isEmpty else {
            teardown(AMQPError(code: .connectionClosed, message: "the connection was lost"))
            return false
        }
        var attempt = 0
        while true {
            let delay = configuration.reconnect.delay(attempt: attempt)
            logger.debug(
                "amqp reconnect scheduled",
                metadata: [AMQPLogKey.attempt: "\(attempt + 1)", AMQPLogKey.delay: "\(delay)"]
            )
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
                logger.debug("amqp reconnected", metadata: [AMQPLogKey.attempt: "\(attempt + 1)"])
                return true
            } catch {
                let error = (error as? ConnectionLost)?.error ?? error
                logger.debug(
                    "amqp reconnect failed",
                    metadata: [AMQPLogKey.attempt: "\(attempt + 1)", AMQPLogKey.error: "\(error)"]
                )
                destroyConnection()
                attempt += 1
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
        for exchange in exchanges.values.sorted(by: { $0.name < $1.name }) {
            do { try declareExchange(exchange) } catch let error as AMQPError {
                logger.debug("amqp redeclare failed", metadata: [AMQPLogKey.exchange: "\(exchange.name)", AMQPLogKey.error: "\(error)"])
            }
        }
        for queue in queues.values.sorted(by: { $0.name < $1.name }) {
            do { _ = try declareQueue(queue) } catch let error as AMQPError {
                logger.debug("amqp redeclare failed", metadata: [AMQPLogKey.queue: "\(queue.name)", AMQPLogKey.error: "\(error)"])
            }
        }
        for binding in bindings {
            do { try bind(binding) } catch let error as AMQPError {
                logger.debug("amqp rebind failed", metadata: [AMQPLogKey.queue: "\(binding.queue)", AMQPLogKey.error: "\(error)"])
            }
        }
        logger.debug(
            "amqp topology restored",
            metadata: ["amqp.exchanges": "\(exchanges.count)", "amqp.queues": "\(queues.count)", "amqp.bindings": "\(bindings.count)"]
        )
    }

    private func resumeConsumers() throws {
        consumerByChannel = [:]
        freeChannels = []
        nextChannel = Self.firstConsumerChannel
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

    private func connectionLost(_ error: AMQPError) {
        logger.debug("amqp connection lost", metadata: [AMQPLogKey.error: "\(error)", "amqp.unconfirmed": "\(pending.count)"])
        core.setConnected(false)
        destroyConnection()
        failPendingConfirms(AMQPError(code: .connectionClosed, replyCode: error.replyCode, message: "connection lost before the broker confirmed the message: \(error.message)"))
        for consumer in consumers.values {
            consumer.channel = 0
        }
        consumerByChannel = [:]
    }

    private func destroyConnection() {
        if let conn {
            amqp_destroy_connection(conn)
        }
        conn = nil
        socketFD = -1
    }

    private func failPendingConfirms(_ error: AMQPError) {
        let failed = pending
        pending = [:]
        for (_, confirm) in failed.sorted(by: { $0.key < $1.key }) {
            confirm.target.complete(.failure(error))
        }
        oldestUnconfirmed = nextPublishSeq
    }

    /// Ends the driver: fails everything still waiting and resumes close requests.
    private func teardown(_ error: AMQPError) {
        destroyConnection()
        failPendingConfirms(error)
        let remaining = core.finish(error: error.code == .clientClosed ? nil : error)
        for consumer in consumers.values {
            if error.code == .clientClosed { consumer.stream.finish() } else { consumer.stream.finish(throwing: error) }
        }
        consumers = [:]
        consumerByChannel = [:]
        for command in remaining {
            if case .close(let continuation) = command { closeRequests.append(continuation) } else { command.fail(error) }
        }
        let requests = closeRequests
        closeRequests = []
        for request in requests { request?.resume() }
    }

    /// Cancels consumers (waiting for cancel-ok), waits for outstanding confirms, sends queued
    /// acknowledgements, then closes the connection.
    private func gracefulClose() {
        logger.debug("amqp closing", metadata: ["amqp.consumers": "\(consumers.count)", "amqp.unconfirmed": "\(pending.count)"])
        // An unresponsive broker must not hold the close up for the full RPC timeout.
        var closeTimeout = min(configuration.closeTimeout, configuration.rpcTimeout).timeval
        _ = amqp_set_rpc_timeout(conn, &closeTimeout)
        do {
            for consumer in consumers.values.sorted(by: { $0.tag < $1.tag }) {
                try cancelConsumer(consumer, finishStream: false)
            }
            try readFrames(limit: Int.max)
            for consumer in consumers.values { consumer.stream.finish() }
            let deadline = ContinuousClock.now + configuration.closeTimeout
            while !pending.isEmpty && ContinuousClock.now < deadline {
                try processCommands()
                try readFrames(limit: 256)
                if !pending.isEmpty { waitForActivity(timeoutMilliseconds: 50) }
            }
            try processCommands()
            for consumer in consumerByChannel.values { _ = amqp_channel_close(conn, consumer.channel, 200) }
            if let conn {
                _ = amqp_connection_close(conn, 200)
            }
            logger.debug("amqp closed")
        } catch {
            logger.debug("amqp close interrupted", metadata: [AMQPLogKey.error: "\(error)"])
        }
        consumers = [:]
        teardown(AMQPError(code: .clientClosed, message: "the connection was closed"))
    }

    // MARK: - Commands

    private func execute(_ command: Command) throws {
        if !closeRequests.isEmpty {
            switch command {
            case .publish, .publishBatch, .consume, .declareExchange, .declareQueue, .bind, .queueInfo, .deleteQueue, .deleteExchange, .purgeQueue:
                command.fail(AMQPError(code: .clientClosed, message: "the connection is closing"))
                return
            default: break
            }
        }
        switch command {
        case .publish(let request):
            try publish(
                AMQPMessage(
                    body: request.body, exchange: request.exchange, routingKey: request.routingKey, properties: request.properties,
                    mandatory: request.mandatory
                ),
                target: .single(request.continuation)
            )
        case .publishBatch(let request):
            let batch = PublishBatch(count: request.messages.count, continuation: request.continuation)
            for (index, message) in request.messages.enumerated() {
                do {
                    try publish(message, target: .batch(batch, index))
                } catch var lost as ConnectionLost {
                    for failed in index..<request.messages.count { batch.complete(failed, .failure(lost.error)) }
                    lost.commandHandled = true
                    throw lost
                }
            }
        case .ack(let reference, let multiple):
            guard let consumer = liveConsumer(reference) else { return }
            core.metrics.acked.increment()
            if multiple {
                try check(status: amqp_basic_ack(conn, reference.channel, reference.deliveryTag, 1), "basic.ack")
                consumer.settle(upTo: reference.deliveryTag)
            } else {
                consumer.pendingAcks.insert(reference.deliveryTag)
                channelsWithPendingAcks.insert(reference.channel)
            }
        case .nack(let reference, let multiple, let requeue):
            guard let consumer = liveConsumer(reference) else { return }
            try check(
                status: amqp_basic_nack(conn, reference.channel, reference.deliveryTag, multiple ? 1 : 0, requeue ? 1 : 0),
                "basic.nack"
            )
            core.metrics.rejected.increment()
            if multiple { consumer.settle(upTo: reference.deliveryTag) } else { consumer.settledOutOfOrder.insert(reference.deliveryTag) }
        case .reject(let reference, let requeue):
            guard let consumer = liveConsumer(reference) else { return }
            try check(status: amqp_basic_reject(conn, reference.channel, reference.deliveryTag, requeue ? 1 : 0), "basic.reject")
            core.metrics.rejected.increment()
            consumer.settledOutOfOrder.insert(reference.deliveryTag)
        case .declareExchange(let exchange, let continuation):
            do {
                try declareExchange(exchange)
                exchanges[exchange.name] = exchange
                continuation.resume()
            } catch let error as AMQPError { continuation.resume(throwing: error) }
        case .declareQueue(let queue, let continuation):
            do {
                let info = try declareQueue(queue)
                if !queue.name.isEmpty && !queue.exclusive { queues[queue.name] = queue }
                continuation.resume(returning: info)
            } catch let error as AMQPError { continuation.resume(throwing: error) }
        case .queueInfo(let name, let continuation):
            do { continuation.resume(returning: try declareQueue(AMQPQueue(name: name), passive: true)) } catch let error as AMQPError {
                continuation.resume(throwing: error)
            }
        case .bind(let binding, let continuation):
            do {
                try bind(binding)
                if !bindings.contains(binding) { bindings.append(binding) }
                continuation.resume()
            } catch let error as AMQPError { continuation.resume(throwing: error) }
        case .deleteQueue(let name, let continuation):
            do {
                try topologyRPC("queue.delete") { arena in
                    amqp_queue_delete(conn, Self.topologyChannel, arena.bytes(name), 0, 0) != nil
                }
                queues[name] = nil
                bindings.removeAll { $0.queue == name }
                continuation.resume()
            } catch let error as AMQPError { continuation.resume(throwing: error) }
        case .deleteExchange(let name, let continuation):
            do {
                try topologyRPC("exchange.delete") { arena in
                    amqp_exchange_delete(conn, Self.topologyChannel, arena.bytes(name), 0) != nil
                }
                exchanges[name] = nil
                bindings.removeAll { $0.exchange == name }
                continuation.resume()
            } catch let error as AMQPError { continuation.resume(throwing: error) }
        case .purgeQueue(let name, let continuation):
            do {
                var count = 0
                try topologyRPC("queue.purge") { arena in
                    guard let ok = amqp_queue_purge(conn, Self.topologyChannel, arena.bytes(name)) else { return false }
                    count = Int(ok.pointee.message_count)
                    return true
                }
                continuation.resume(returning: count)
            } catch let error as AMQPError { continuation.resume(throwing: error) }
        case .consume(let request):
            let consumer = Consumer(tag: request.tag, queue: request.queue, prefetch: request.prefetch, stream: request.stream)
            do {
                guard consumers[request.tag] == nil else {
                    throw AMQPError(code: .protocolError, message: "consumer tag \(request.tag) is already in use")
                }
                try startConsumer(consumer)
                consumers[consumer.tag] = consumer
                logger.debug("amqp consumer started", metadata: [AMQPLogKey.consumerTag: "\(consumer.tag)", AMQPLogKey.queue: "\(consumer.queue)"])
                request.continuation.resume()
            } catch let error as AMQPError {
                request.stream.finish(throwing: error)
                request.continuation.resume(throwing: error)
            }
        case .cancel(let tag, let continuation):
            defer { continuation?.resume() }
            guard let consumer = consumers[tag] else { return }
            try cancelConsumer(consumer, finishStream: true)
        case .close(let continuation):
            closeRequests.append(continuation)
        }
    }

    private func liveConsumer(_ reference: DeliveryReference) -> Consumer? {
        guard let consumer = consumerByChannel[reference.channel], consumer.generation == reference.generation else {
            logger.trace("amqp stale acknowledgement dropped", metadata: [AMQPLogKey.channel: "\(reference.channel)"])
            return nil
        }
        return consumer
    }

    private func publish(_ message: AMQPMessage, target: ConfirmTarget) throws {
        let arena = CArena()
        let seq = nextPublishSeq
        var properties = arena.properties(
            message.properties,
            extraHeaders: message.mandatory ? [Self.publishSeqHeader: .int(Int64(seq))] : [:]
        )
        var exchange = message.exchange
        var routingKey = message.routingKey
        // The names and the body are only read during the call: pass pointers to them directly.
        let status = exchange.withUTF8 { exchange in
            routingKey.withUTF8 { routingKey in
                message.body.withUnsafeBytes { body in
                    amqp_basic_publish(
                        conn, Self.publishChannel, amqp_bytes_t(exchange), amqp_bytes_t(routingKey), message.mandatory ? 1 : 0, 0,
                        &properties, amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress))
                    )
                }
            }
        }
        if status != 0 {
            if status == AMQP_STATUS_TABLE_TOO_BIG.rawValue || status == AMQP_STATUS_INVALID_PARAMETER.rawValue
                || status == AMQP_STATUS_BAD_AMQP_DATA.rawValue
            {
                target.complete(.failure(AMQPError(code: .protocolError, message: "cannot encode message: \(Self.statusString(status))")))
                return
            }
            throw ConnectionLost(error: AMQPError(code: .connectionClosed, message: "basic.publish: \(Self.statusString(status))"))
        }
        nextPublishSeq += 1
        pending[seq] = PendingConfirm(target: target)
        core.metrics.published.increment()
    }

    // MARK: - Topology

    private func declareExchange(_ exchange: AMQPExchange) throws {
        try topologyRPC("exchange.declare") { arena in
            amqp_exchange_declare(
                conn, Self.topologyChannel, arena.bytes(exchange.name), arena.bytes(exchange.kind.rawValue), 0,
                exchange.durable ? 1 : 0, exchange.autoDelete ? 1 : 0, 0, arena.table(exchange.arguments)
            ) != nil
        }
    }

    private func declareQueue(_ queue: AMQPQueue, passive: Bool = false) throws -> AMQPQueueInfo {
        var info = AMQPQueueInfo(name: queue.name, messageCount: 0, consumerCount: 0)
        try topologyRPC(passive ? "queue.declare(passive)" : "queue.declare") { arena in
            guard
                let ok = amqp_queue_declare(
                    conn, Self.topologyChannel, arena.bytes(queue.name), passive ? 1 : 0, queue.durable ? 1 : 0,
                    queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0, passive ? amqp_empty_table : arena.table(queue.declareArguments)
                )
            else { return false }
            info = AMQPQueueInfo(
                name: String(amqpBytes: ok.pointee.queue),
                messageCount: Int(ok.pointee.message_count),
                consumerCount: Int(ok.pointee.consumer_count)
            )
            return true
        }
        return info
    }

    private func bind(_ binding: AMQPBinding) throws {
        try topologyRPC("queue.bind") { arena in
            amqp_queue_bind(
                conn, Self.topologyChannel, arena.bytes(binding.queue), arena.bytes(binding.exchange),
                arena.bytes(binding.routingKey), arena.table(binding.arguments)
            ) != nil
        }
    }

    /// Runs a synchronous method on the topology channel. A channel error is thrown as
    /// ``AMQPError`` after the channel was reopened; a connection error as ``ConnectionLost``.
    private func topologyRPC(_ operation: String, _ body: (CArena) -> Bool) throws {
        let arena = CArena()
        if body(arena) { return }
        do {
            try checkReply(operation, channel: Self.topologyChannel)
        } catch let error as AMQPError {
            try openChannel(Self.topologyChannel)
            logger.debug("amqp channel reopened", metadata: [AMQPLogKey.channel: "\(Self.topologyChannel)", AMQPLogKey.error: "\(error)"])
            throw error
        }
    }

    // MARK: - Channels and consumers

    private func openChannel(_ channel: amqp_channel_t) throws {
        guard amqp_channel_open(conn, channel) != nil else {
            do { try checkReply("channel.open", channel: channel) } catch let error as AMQPError {
                throw ConnectionLost(error: error)
            }
            return
        }
    }

    private func openPublishChannel() throws {
        try openChannel(Self.publishChannel)
        guard amqp_confirm_select(conn, Self.publishChannel) != nil else {
            do { try checkReply("confirm.select", channel: Self.publishChannel) } catch let error as AMQPError {
                throw ConnectionLost(error: error)
            }
            return
        }
        nextPublishSeq = 1
        oldestUnconfirmed = 1
    }

    private func allocateChannel() -> amqp_channel_t {
        if let channel = freeChannels.popLast() { return channel }
        defer { nextChannel += 1 }
        return nextChannel
    }

    private func startConsumer(_ consumer: Consumer) throws {
        let channel = allocateChannel()
        try openChannel(channel)
        do {
            if amqp_basic_qos(conn, channel, 0, consumer.prefetch, 0) == nil {
                try checkReply("basic.qos", channel: channel)
            }
            let arena = CArena()
            if amqp_basic_consume(conn, channel, arena.bytes(consumer.queue), arena.bytes(consumer.tag), 0, 0, 0, amqp_empty_table) == nil {
                try checkReply("basic.consume", channel: channel)
            }
        } catch let error as AMQPError {
            // The broker closed the channel (and we sent close-ok): the number is free again.
            freeChannels.append(channel)
            throw error
        }
        consumer.channel = channel
        consumer.resetSettlement()
        consumer.generation = nextGeneration
        nextGeneration += 1
        consumerByChannel[channel] = consumer
    }

    private func cancelConsumer(_ consumer: Consumer, finishStream: Bool) throws {
        let channel = consumer.channel
        if channel != 0 {
            let arena = CArena()
            if amqp_basic_cancel(conn, channel, arena.bytes(consumer.tag)) == nil {
                do { try checkReply("basic.cancel", channel: channel) } catch let error as AMQPError {
                    logger.debug("amqp cancel failed", metadata: [AMQPLogKey.consumerTag: "\(consumer.tag)", AMQPLogKey.error: "\(error)"])
                }
            }
        }
        logger.debug("amqp consumer cancelled", metadata: [AMQPLogKey.consumerTag: "\(consumer.tag)"])
        guard finishStream else { return }
        // Deliveries that arrived before cancel-ok were queued by the library: hand them over first.
        try readFrames(limit: Int.max)
        consumers[consumer.tag] = nil
        consumer.stream.finish()
        if channel != 0, consumerByChannel[channel] === consumer {
            consumerByChannel[channel] = nil
            if amqp_channel_close(conn, channel, 200).reply_type == AMQP_RESPONSE_NORMAL {
                freeChannels.append(channel)
            }
        }
    }

    // MARK: - Frames

    private func readFrames(limit: Int) throws {
        guard let conn else { return }
        var zero = timeval(tv_sec: 0, tv_usec: 0)
        var frame = amqp_frame_t()
        var handled = 0
        while handled < limit {
            let status = amqp_simple_wait_frame_noblock(conn, &frame, &zero)
            if status == AMQP_STATUS_TIMEOUT.rawValue { break }
            guard status == 0 else {
                throw ConnectionLost(error: AMQPError(code: .connectionClosed, message: Self.statusString(status)))
            }
            try handle(frame)
            handled += 1
        }
        if amqp_frames_enqueued(conn) == 0 && amqp_data_in_buffer(conn) == 0 {
            amqp_maybe_release_buffers(conn)
        }
    }

    private func handle(_ frame: amqp_frame_t) throws {
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else {
            logger.trace("amqp unexpected frame", metadata: [AMQPLogKey.channel: "\(frame.channel)", "amqp.frame.type": "\(frame.frame_type)"])
            return
        }
        let channel = frame.channel
        let method = frame.payload.method
        switch method.id {
        case TASKER_AMQP_BASIC_DELIVER_METHOD:
            let deliver = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            let consumerTag = String(amqpBytes: deliver.consumer_tag)
            let exchange = String(amqpBytes: deliver.exchange)
            let routingKey = String(amqpBytes: deliver.routing_key)
            let (properties, body) = try readContent(channel: channel)
            guard let consumer = consumerByChannel[channel] else {
                logger.trace("amqp delivery for unknown channel", metadata: [AMQPLogKey.channel: "\(channel)"])
                return
            }
            core.metrics.delivered.increment()
            consumer.unsettled.append(deliver.delivery_tag)
            consumer.stream.yield(
                AMQPDelivery(
                    body: body, properties: properties, exchange: exchange, routingKey: routingKey, consumerTag: consumerTag,
                    deliveryTag: deliver.delivery_tag, isRedelivered: deliver.redelivered != 0,
                    reference: DeliveryReference(channel: channel, generation: consumer.generation, deliveryTag: deliver.delivery_tag),
                    core: core
                )
            )
        case TASKER_AMQP_BASIC_ACK_METHOD where channel == Self.publishChannel:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            confirm(ack.delivery_tag, multiple: ack.multiple != 0, ack: true)
            amqp_maybe_release_buffers_on_channel(conn, channel)
        case TASKER_AMQP_BASIC_NACK_METHOD where channel == Self.publishChannel:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            confirm(nack.delivery_tag, multiple: nack.multiple != 0, ack: false)
            amqp_maybe_release_buffers_on_channel(conn, channel)
        case TASKER_AMQP_BASIC_RETURN_METHOD:
            let returned = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let error = AMQPError(
                code: .unroutable, replyCode: Int(returned.reply_code),
                message: "message returned by the broker (exchange '\(String(amqpBytes: returned.exchange))', routing key '\(String(amqpBytes: returned.routing_key))'): \(String(amqpBytes: returned.reply_text))"
            )
            let (properties, _) = try readContent(channel: channel)
            core.metrics.returned.increment()
            if let seq = properties.headers[Self.publishSeqHeader]?.intValue, pending[UInt64(seq)] != nil {
                pending[UInt64(seq)]?.returned = error
            } else {
                logger.debug("amqp returned message without a pending publish", metadata: [AMQPLogKey.error: "\(error)"])
            }
        case TASKER_AMQP_CHANNEL_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let error = AMQPError(code: .channelClosed, replyCode: Int(close.reply_code), message: String(amqpBytes: close.reply_text))
            _ = tasker_amqp_send_channel_close_ok(conn, channel)
            try channelClosedByBroker(channel, error)
        case TASKER_AMQP_CONNECTION_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            _ = tasker_amqp_send_connection_close_ok(conn)
            throw ConnectionLost(
                error: AMQPError(code: .connectionClosed, replyCode: Int(close.reply_code), message: String(amqpBytes: close.reply_text))
            )
        case TASKER_AMQP_BASIC_CANCEL_METHOD:
            let cancel = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            let tag = String(amqpBytes: cancel.consumer_tag)
            logger.debug("amqp consumer cancelled by the broker", metadata: [AMQPLogKey.consumerTag: "\(tag)"])
            if let consumer = consumers.removeValue(forKey: tag) {
                consumer.stream.finish(throwing: AMQPError(code: .consumerCancelled, message: "the broker cancelled consumer \(tag)"))
                if consumerByChannel[channel] === consumer {
                    consumerByChannel[channel] = nil
                    if amqp_channel_close(conn, channel, 200).reply_type == AMQP_RESPONSE_NORMAL { freeChannels.append(channel) }
                }
            }
        case TASKER_AMQP_CONNECTION_BLOCKED_METHOD:
            logger.debug("amqp connection blocked by the broker")
        case TASKER_AMQP_CONNECTION_UNBLOCKED_METHOD:
            logger.debug("amqp connection unblocked")
        default:
            logger.trace("amqp unexpected method", metadata: [AMQPLogKey.channel: "\(channel)", "amqp.method": "\(method.id)"])
        }
    }

    private func readContent(channel: amqp_channel_t) throws -> (AMQPProperties, [UInt8]) {
        var message = amqp_message_t()
        let reply = amqp_read_message(conn, channel, &message, 0)
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            throw ConnectionLost(error: AMQPError(code: .connectionClosed, message: "reading message: \(describe(reply))"))
        }
        defer {
            amqp_destroy_message(&message)
            amqp_maybe_release_buffers_on_channel(conn, channel)
        }
        return (AMQPProperties(message.properties), [UInt8](amqpBytes: message.body))
    }

    private func confirm(_ tag: UInt64, multiple: Bool, ack: Bool) {
        if multiple {
            var seq = oldestUnconfirmed
            while seq <= tag {
                resolve(seq, ack: ack)
                seq += 1
            }
            oldestUnconfirmed = max(oldestUnconfirmed, tag + 1)
        } else {
            resolve(tag, ack: ack)
            while oldestUnconfirmed < nextPublishSeq && pending[oldestUnconfirmed] == nil { oldestUnconfirmed += 1 }
        }
    }

    private func resolve(_ seq: UInt64, ack: Bool) {
        guard let confirm = pending.removeValue(forKey: seq) else { return }
        if let returned = confirm.returned {
            confirm.target.complete(.failure(returned))
        } else if ack {
            core.metrics.confirmed.increment()
            confirm.target.complete(.success(()))
        } else {
            core.metrics.nacked.increment()
            confirm.target.complete(.failure(AMQPError(code: .nacked, message: "the broker refused the message (basic.nack)")))
        }
    }

    private func channelClosedByBroker(_ channel: amqp_channel_t, _ error: AMQPError) throws {
        logger.debug("amqp channel closed by the broker", metadata: [AMQPLogKey.channel: "\(channel)", AMQPLogKey.error: "\(error)"])
        if channel == Self.publishChannel {
            failPendingConfirms(error)
            try openPublishChannel()
        } else if channel == Self.topologyChannel {
            try openChannel(channel)
        } else if let consumer = consumerByChannel.removeValue(forKey: channel) {
            freeChannels.append(channel)
            do {
                try startConsumer(consumer)
            } catch let resumeError as AMQPError {
                consumers[consumer.tag] = nil
                consumer.stream.finish(throwing: resumeError)
            }
        } else {
            freeChannels.append(channel)
        }
        logger.debug("amqp channel reopened", metadata: [AMQPLogKey.channel: "\(channel)"])
    }

    // MARK: - Errors

    /// Translates the last RPC reply: channel errors are thrown as ``AMQPError`` (the channel
    /// is closed; close-ok was sent), connection errors as ``ConnectionLost``.
    private func checkReply(_ operation: String, channel: amqp_channel_t) throws {
        let reply = amqp_get_rpc_reply(conn)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == TASKER_AMQP_CHANNEL_CLOSE_METHOD:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let error = AMQPError(
                code: .channelClosed, replyCode: Int(close.reply_code), message: "\(operation): \(String(amqpBytes: close.reply_text))"
            )
            let status = tasker_amqp_send_channel_close_ok(conn, channel)
            if status != 0 {
                throw ConnectionLost(error: AMQPError(code: .connectionClosed, message: Self.statusString(status)))
            }
            throw error
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == TASKER_AMQP_CONNECTION_CLOSE_METHOD:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            _ = tasker_amqp_send_connection_close_ok(conn)
            throw ConnectionLost(
                error: AMQPError(
                    code: .connectionClosed, replyCode: Int(close.reply_code), message: "\(operation): \(String(amqpBytes: close.reply_text))"
                )
            )
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_TIMEOUT.rawValue:
            throw ConnectionLost(error: AMQPError(code: .timeout, message: "\(operation) timed out"))
        default:
            throw ConnectionLost(error: AMQPError(code: .connectionClosed, message: "\(operation): \(describe(reply))"))
        }
    }

    private func check(status: Int32, _ operation: String) throws {
        guard status == 0 else {
            throw ConnectionLost(error: AMQPError(code: .connectionClosed, message: "\(operation): \(Self.statusString(status))"))
        }
    }

    private func describe(_ reply: amqp_rpc_reply_t) -> String {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL: return "ok"
        case AMQP_RESPONSE_LIBRARY_EXCEPTION: return Self.statusString(reply.library_error)
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == TASKER_AMQP_CONNECTION_CLOSE_METHOD {
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return "\(close.reply_code) \(String(amqpBytes: close.reply_text))"
            }
            if reply.reply.id == TASKER_AMQP_CHANNEL_CLOSE_METHOD {
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                return "\(close.reply_code) \(String(amqpBytes: close.reply_text))"
            }
            return "server exception (method \(reply.reply.id))"
        default: return "no reply"
        }
    }

    static func statusString(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }
}
