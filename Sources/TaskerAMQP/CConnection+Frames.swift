import CRabbitMQ
import Glibc
import Logging

extension CConnection {
    /// A message delivered to a consumer channel, copied out of the library's buffers.
    struct InboundDelivery {
        var channel: UInt16
        var consumerTag: String
        var exchange: String
        var routingKey: String
        var deliveryTag: UInt64
        var isRedelivered: Bool
        var properties: AMQPProperties
        var body: [UInt8]
    }

    /// An asynchronous method received from the broker, decoded into Swift values.
    enum Event {
        /// basic.deliver with its content.
        case delivery(InboundDelivery)
        /// basic.ack on the publish channel (a publisher confirm).
        case publisherAck(deliveryTag: UInt64, multiple: Bool)
        /// basic.nack on the publish channel.
        case publisherNack(deliveryTag: UInt64, multiple: Bool)
        /// basic.return of a `mandatory` message, as an `.unroutable` error, with its properties.
        case returned(AMQPError, properties: AMQPProperties)
        /// channel.close from the broker; close-ok was already sent.
        case channelClosed(channel: UInt16, AMQPError)
        /// basic.cancel from the broker (for example, the queue was deleted).
        case consumerCancelled(channel: UInt16, tag: String)
        /// connection.blocked / connection.unblocked (resource alarm on the broker).
        case blocked, unblocked
        /// Anything else (logged at trace level).
        case ignored
    }

    /// Whether frames or bytes are already buffered by the library (read them before polling).
    var hasBufferedInput: Bool {
        amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0
    }

    /// Frees the library's frame buffers when nothing is buffered.
    func releaseBuffersIfIdle() {
        if !hasBufferedInput { amqp_maybe_release_buffers(state) }
    }

    /// Reads the next frame without waiting: `nil` if none is available now. A connection.close
    /// from the broker is answered with close-ok and thrown as ``ConnectionLost``.
    func nextEvent() throws -> Event? {
        var zero = timeval(tv_sec: 0, tv_usec: 0)
        var frame = amqp_frame_t()
        let status = amqp_simple_wait_frame_noblock(state, &frame, &zero)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        guard status == 0 else {
            throw ConnectionLost(error: AMQPError(code: .connectionClosed, message: Self.statusString(status)))
        }
        return try decode(frame)
    }

    private func decode(_ frame: amqp_frame_t) throws -> Event {
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else {
            logger.trace("amqp unexpected frame", metadata: [AMQPLogKey.channel: "\(frame.channel)", "amqp.frame.type": "\(frame.frame_type)"])
            return .ignored
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
            return .delivery(
                InboundDelivery(
                    channel: channel, consumerTag: consumerTag, exchange: exchange, routingKey: routingKey,
                    deliveryTag: deliver.delivery_tag, isRedelivered: deliver.redelivered != 0, properties: properties, body: body
                )
            )
        case TASKER_AMQP_BASIC_ACK_METHOD where channel == Self.publishChannel:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            amqp_maybe_release_buffers_on_channel(state, channel)
            return .publisherAck(deliveryTag: ack.delivery_tag, multiple: ack.multiple != 0)
        case TASKER_AMQP_BASIC_NACK_METHOD where channel == Self.publishChannel:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            amqp_maybe_release_buffers_on_channel(state, channel)
            return .publisherNack(deliveryTag: nack.delivery_tag, multiple: nack.multiple != 0)
        case TASKER_AMQP_BASIC_RETURN_METHOD:
            let returned = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let error = AMQPError(
                code: .unroutable, replyCode: Int(returned.reply_code),
                message: "message returned by the broker (exchange '\(String(amqpBytes: returned.exchange))', routing key '\(String(amqpBytes: returned.routing_key))'): \(String(amqpBytes: returned.reply_text))"
            )
            let (properties, _) = try readContent(channel: channel)
            return .returned(error, properties: properties)
        case TASKER_AMQP_CHANNEL_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let error = AMQPError(code: .channelClosed, replyCode: Int(close.reply_code), message: String(amqpBytes: close.reply_text))
            _ = tasker_amqp_send_channel_close_ok(state, channel)
            return .channelClosed(channel: channel, error)
        case TASKER_AMQP_CONNECTION_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            _ = tasker_amqp_send_connection_close_ok(state)
            throw ConnectionLost(
                error: AMQPError(code: .connectionClosed, replyCode: Int(close.reply_code), message: String(amqpBytes: close.reply_text))
            )
        case TASKER_AMQP_BASIC_CANCEL_METHOD:
            let cancel = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            return .consumerCancelled(channel: channel, tag: String(amqpBytes: cancel.consumer_tag))
        case TASKER_AMQP_CONNECTION_BLOCKED_METHOD:
            return .blocked
        case TASKER_AMQP_CONNECTION_UNBLOCKED_METHOD:
            return .unblocked
        default:
            logger.trace("amqp unexpected method", metadata: [AMQPLogKey.channel: "\(channel)", "amqp.method": "\(method.id)"])
            return .ignored
        }
    }

    /// Reads the content header and body frames that follow basic.deliver / basic.return.
    private func readContent(channel: UInt16) throws -> (AMQPProperties, [UInt8]) {
        var message = amqp_message_t()
        let reply = amqp_read_message(state, channel, &message, 0)
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            throw ConnectionLost(error: AMQPError(code: .connectionClosed, message: "reading message: \(describe(reply))"))
        }
        defer {
            amqp_destroy_message(&message)
            amqp_maybe_release_buffers_on_channel(state, channel)
        }
        return (AMQPProperties(message.properties), [UInt8](amqpBytes: message.body))
    }
}
