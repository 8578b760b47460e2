import Logging
import CoreMetrics

/// Handling what the broker sends: deliveries, publisher confirms, returns, channel closes and
/// consumer cancellations.
extension ConnectionDriver {
    /// Handles up to `limit` frames that are available without waiting.
    func readFrames(limit: Int) throws {
        guard let connection else { return }
        var handled = 0
        while handled < limit, let event = try connection.nextEvent() {
            try handle(event)
            handled += 1
        }
        connection.releaseBuffersIfIdle()
    }

    private func handle(_ event: CConnection.Event) throws {
        switch event {
        case .delivery(let delivery):
            guard let consumer = channels.owner(of: delivery.channel) else {
                logger.trace("amqp delivery for unknown channel", metadata: [AMQPLogKey.channel: "\(delivery.channel)"])
                return
            }
            core.metrics.delivered.increment()
            consumer.acks.received(delivery.deliveryTag)
            consumer.stream.yield(
                AMQPDelivery(
                    body: delivery.body, properties: delivery.properties, exchange: delivery.exchange, routingKey: delivery.routingKey,
                    consumerTag: delivery.consumerTag, deliveryTag: delivery.deliveryTag, isRedelivered: delivery.isRedelivered,
                    reference: DeliveryReference(channel: delivery.channel, generation: consumer.generation, deliveryTag: delivery.deliveryTag),
                    core: core
                )
            )
        case .publisherAck(let deliveryTag, let multiple):
            complete(confirms.acknowledged(deliveryTag: deliveryTag, multiple: multiple))
        case .publisherNack(let deliveryTag, let multiple):
            complete(confirms.negativelyAcknowledged(deliveryTag: deliveryTag, multiple: multiple))
        case .returned(let error, let properties):
            core.metrics.returned.increment()
            var matched = false
            if let tag = properties.headers[Self.publishSeqHeader]?.intValue.flatMap({ UInt64(exactly: $0) }) {
                matched = confirms.returned(deliveryTag: tag, error: error)
            }
            if !matched {
                logger.debug("amqp returned message without a pending publish", metadata: [AMQPLogKey.error: "\(error)"])
            }
        case .channelClosed(let channel, let error):
            try channelClosedByBroker(channel, error)
        case .consumerCancelled(let channel, let tag):
            logger.debug("amqp consumer cancelled by the broker", metadata: [AMQPLogKey.consumerTag: "\(tag)"])
            if let consumer = consumers.removeValue(forKey: tag) {
                consumer.stream.finish(throwing: AMQPError(code: .consumerCancelled, message: "the broker cancelled consumer \(tag)"))
                if channels.isCurrent(channel, generation: consumer.generation) {
                    channels.detach(channel)
                    if try live.closeChannel(channel) { channels.release(channel) }
                }
            }
        case .blocked:
            logger.debug("amqp connection blocked by the broker")
        case .unblocked:
            logger.debug("amqp connection unblocked")
        case .ignored:
            break
        }
    }

    /// Completes the publishes a confirm resolved.
    private func complete(_ resolutions: [PublishConfirms<ConfirmTarget>.Resolution]) {
        for resolution in resolutions {
            switch resolution.outcome {
            case .confirmed:
                core.metrics.confirmed.increment()
                resolution.target.complete(.success(()))
            case .nacked:
                core.metrics.nacked.increment()
                resolution.target.complete(.failure(AMQPError(code: .nacked, message: "the broker refused the message (basic.nack)")))
            case .returned(let error):
                resolution.target.complete(.failure(error))
            }
        }
    }

    /// The broker closed `channel` (close-ok was sent): reopen it. On the publish channel every
    /// unconfirmed publish fails with `error`; a consumer is re-registered on a new channel.
    private func channelClosedByBroker(_ channel: UInt16, _ error: AMQPError) throws {
        logger.debug("amqp channel closed by the broker", metadata: [AMQPLogKey.channel: "\(channel)", AMQPLogKey.error: "\(error)"])
        if channel == CConnection.publishChannel {
            failPendingConfirms(error)
            try live.openPublishChannel()
            confirms.restartNumbering()
        } else if channel == CConnection.topologyChannel {
            try live.openChannel(channel)
        } else if let consumer = channels.detach(channel) {
            channels.release(channel)
            do {
                try startConsumer(consumer)
            } catch let resumeError as AMQPError {
                consumers[consumer.tag] = nil
                consumer.stream.finish(throwing: resumeError)
            }
        } else {
            channels.release(channel)
        }
        logger.debug("amqp channel reopened", metadata: [AMQPLogKey.channel: "\(channel)"])
    }
}
