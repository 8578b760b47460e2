import CRabbitMQ
import Glibc
import Logging

/// Raised when the connection (not just a channel) is unusable.
struct ConnectionLost: Error {
    var error: AMQPError
    /// The command that hit the loss already completed its callers.
    var commandHandled = false
}

/// One librabbitmq connection (`amqp_connection_state_t`) and every C call made on it.
///
/// It is created, used and released on the connection thread only, by ``ConnectionDriver``
/// (it is not `Sendable`, and the handle never leaves it); releasing it destroys the C
/// connection. Its calls block for at most the RPC timeout. Errors are translated in one place:
/// a method throws ``AMQPError`` when the broker closed the channel it used (close-ok is
/// already sent, the connection is fine) and ``ConnectionLost`` when the connection is
/// unusable. Channel 1 carries topology methods and channel 2 publishes in confirm mode; both
/// are opened by ``open(configuration:logger:)``. Incoming frames are decoded into
/// ``CConnection/Event``s in `CConnection+Frames.swift`.
final class CConnection {
    static let topologyChannel: UInt16 = 1
    static let publishChannel: UInt16 = 2

    /// The C connection. Internal only for the extensions of this class in other files
    /// (`CConnection+Frames.swift`); nothing else may touch it.
    let state: amqp_connection_state_t
    let logger: Logger
    /// The socket, for `poll`.
    private(set) var socketFD: Int32 = -1

    private init(state: amqp_connection_state_t, logger: Logger) {
        self.state = state
        self.logger = logger
    }

    deinit { amqp_destroy_connection(state) }

    /// Connects, logs in and opens the topology and publish channels.
    static func open(configuration: AMQPConfiguration, logger: Logger) throws -> CConnection {
        guard let state = amqp_new_connection() else {
            throw AMQPError(code: .connectionFailed, message: "amqp_new_connection failed")
        }
        let connection = CConnection(state: state, logger: logger)
        try connection.handshake(configuration)
        return connection
    }

    private func handshake(_ configuration: AMQPConfiguration) throws {
        let socket: OpaquePointer?
        if let tls = configuration.tls {
            socket = amqp_ssl_socket_new(state)
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
            socket = amqp_tcp_socket_new(state)
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
        _ = amqp_set_handshake_timeout(state, &connectTimeout)
        setRPCTimeout(configuration.rpcTimeout)

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
            state, configuration.virtualHost, 0, Int32(configuration.frameMax), heartbeat, &table,
            configuration.username, configuration.password
        )
        if reply.reply_type != AMQP_RESPONSE_NORMAL {
            throw AMQPError(code: .connectionFailed, message: "login failed: \(describe(reply))")
        }
        socketFD = amqp_get_sockfd(state)
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

    /// Bounds every later synchronous method (and the close) by `timeout`.
    func setRPCTimeout(_ timeout: Duration) {
        var value = timeout.timeval
        _ = amqp_set_rpc_timeout(state, &value)
    }

    /// Sends connection.close and waits (up to the RPC timeout) for close-ok.
    func close() {
        _ = amqp_connection_close(state, 200)
    }

    // MARK: - Channels

    /// Opens `channel`; any failure means the connection is unusable.
    func openChannel(_ channel: UInt16) throws {
        guard amqp_channel_open(state, channel) != nil else {
            do { try checkReply("channel.open", channel: channel) } catch let error as AMQPError {
                throw ConnectionLost(error: error)
            }
            return
        }
    }

    /// Opens the publish channel and puts it in confirm mode (the broker numbers confirms from 1).
    func openPublishChannel() throws {
        try openChannel(Self.publishChannel)
        guard amqp_confirm_select(state, Self.publishChannel) != nil else {
            do { try checkReply("confirm.select", channel: Self.publishChannel) } catch let error as AMQPError {
                throw ConnectionLost(error: error)
            }
            return
        }
    }

    /// Closes `channel` and waits for close-ok; `true` if the broker answered normally.
    @discardableResult
    func closeChannel(_ channel: UInt16) -> Bool {
        amqp_channel_close(state, channel, 200).reply_type == AMQP_RESPONSE_NORMAL
    }

    // MARK: - Topology (channel 1)

    func declareExchange(_ exchange: AMQPExchange) throws {
        try topologyRPC("exchange.declare") { arena in
            amqp_exchange_declare(
                state, Self.topologyChannel, arena.bytes(exchange.name), arena.bytes(exchange.kind.rawValue), 0,
                exchange.durable ? 1 : 0, exchange.autoDelete ? 1 : 0, 0, arena.table(exchange.arguments)
            ) != nil
        }
    }

    func declareQueue(_ queue: AMQPQueue, passive: Bool = false) throws -> AMQPQueueInfo {
        var info = AMQPQueueInfo(name: queue.name, messageCount: 0, consumerCount: 0)
        try topologyRPC(passive ? "queue.declare(passive)" : "queue.declare") { arena in
            guard
                let ok = amqp_queue_declare(
                    state, Self.topologyChannel, arena.bytes(queue.name), passive ? 1 : 0, queue.durable ? 1 : 0,
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

    func bind(_ binding: AMQPBinding) throws {
        try topologyRPC("queue.bind") { arena in
            amqp_queue_bind(
                state, Self.topologyChannel, arena.bytes(binding.queue), arena.bytes(binding.exchange),
                arena.bytes(binding.routingKey), arena.table(binding.arguments)
            ) != nil
        }
    }

    func deleteQueue(_ name: String) throws {
        try topologyRPC("queue.delete") { arena in
            amqp_queue_delete(state, Self.topologyChannel, arena.bytes(name), 0, 0) != nil
        }
    }

    func deleteExchange(_ name: String) throws {
        try topologyRPC("exchange.delete") { arena in
            amqp_exchange_delete(state, Self.topologyChannel, arena.bytes(name), 0) != nil
        }
    }

    /// Purges `name`; returns how many messages were removed.
    func purgeQueue(_ name: String) throws -> Int {
        var count = 0
        try topologyRPC("queue.purge") { arena in
            guard let ok = amqp_queue_purge(state, Self.topologyChannel, arena.bytes(name)) else { return false }
            count = Int(ok.pointee.message_count)
            return true
        }
        return count
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

    // MARK: - Publishing and consuming

    /// While corked (`TCP_CORK`), the kernel holds frames back until they fill a segment;
    /// uncorking sends what is held at once. If it fails, frames simply leave one by one.
    func setCorked(_ corked: Bool) {
        guard socketFD >= 0 else { return }
        _ = tasker_set_cork(socketFD, corked ? 1 : 0)
    }

    /// Publishes `message` on the publish channel, with `extraHeaders` added to its headers.
    /// Throws ``AMQPError`` (`.protocolError`) if the message cannot be encoded.
    func publish(_ message: AMQPMessage, extraHeaders: [String: AMQPFieldValue]) throws {
        let arena = CArena()
        var properties = arena.properties(message.properties, extraHeaders: extraHeaders)
        var exchange = message.exchange
        var routingKey = message.routingKey
        // The names and the body are only read during the call: pass pointers to them directly.
        let status = exchange.withUTF8 { exchange in
            routingKey.withUTF8 { routingKey in
                message.body.withUnsafeBytes { body in
                    amqp_basic_publish(
                        state, Self.publishChannel, amqp_bytes_t(exchange), amqp_bytes_t(routingKey), message.mandatory ? 1 : 0, 0,
                        &properties, amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress))
                    )
                }
            }
        }
        guard status != 0 else { return }
        if status == AMQP_STATUS_TABLE_TOO_BIG.rawValue || status == AMQP_STATUS_INVALID_PARAMETER.rawValue
            || status == AMQP_STATUS_BAD_AMQP_DATA.rawValue
        {
            throw AMQPError(code: .protocolError, message: "cannot encode message: \(Self.statusString(status))")
        }
        throw ConnectionLost(error: AMQPError(code: .connectionClosed, message: "basic.publish: \(Self.statusString(status))"))
    }

    /// Opens `channel`, sets basic.qos `prefetch` and starts consuming `queue` with manual acks.
    /// Throws ``AMQPError`` if the broker closed the channel after it was opened.
    func startConsumer(channel: UInt16, queue: String, tag: String, prefetch: UInt16) throws {
        try openChannel(channel)
        if amqp_basic_qos(state, channel, 0, prefetch, 0) == nil {
            try checkReply("basic.qos", channel: channel)
        }
        let arena = CArena()
        if amqp_basic_consume(state, channel, arena.bytes(queue), arena.bytes(tag), 0, 0, 0, amqp_empty_table) == nil {
            try checkReply("basic.consume", channel: channel)
        }
    }

    /// Sends basic.cancel for consumer `tag` and waits for cancel-ok.
    func cancelConsumer(tag: String, channel: UInt16) throws {
        let arena = CArena()
        if amqp_basic_cancel(state, channel, arena.bytes(tag)) == nil {
            try checkReply("basic.cancel", channel: channel)
        }
    }

    func ack(channel: UInt16, deliveryTag: UInt64, multiple: Bool) throws {
        try check(status: amqp_basic_ack(state, channel, deliveryTag, multiple ? 1 : 0), "basic.ack")
    }

    func nack(channel: UInt16, deliveryTag: UInt64, multiple: Bool, requeue: Bool) throws {
        try check(status: amqp_basic_nack(state, channel, deliveryTag, multiple ? 1 : 0, requeue ? 1 : 0), "basic.nack")
    }

    func reject(channel: UInt16, deliveryTag: UInt64, requeue: Bool) throws {
        try check(status: amqp_basic_reject(state, channel, deliveryTag, requeue ? 1 : 0), "basic.reject")
    }

    // MARK: - Errors

    /// Translates the last RPC reply: channel errors are thrown as ``AMQPError`` (the channel
    /// is closed; close-ok was sent), connection errors as ``ConnectionLost``.
    private func checkReply(_ operation: String, channel: UInt16) throws {
        let reply = amqp_get_rpc_reply(state)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == TASKER_AMQP_CHANNEL_CLOSE_METHOD:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let error = AMQPError(
                code: .channelClosed, replyCode: Int(close.reply_code), message: "\(operation): \(String(amqpBytes: close.reply_text))"
            )
            let status = tasker_amqp_send_channel_close_ok(state, channel)
            if status != 0 {
                throw ConnectionLost(error: AMQPError(code: .connectionClosed, message: Self.statusString(status)))
            }
            throw error
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == TASKER_AMQP_CONNECTION_CLOSE_METHOD:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            _ = tasker_amqp_send_connection_close_ok(state)
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

    func check(status: Int32, _ operation: String) throws {
        guard status == 0 else {
            throw ConnectionLost(error: AMQPError(code: .connectionClosed, message: "\(operation): \(Self.statusString(status))"))
        }
    }

    func describe(_ reply: amqp_rpc_reply_t) -> String {
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
