import Logging
import CoreMetrics

/// Results of a ``AMQPConnection/publish(contentsOf:)`` call, completed message by message.
final class PublishBatch {
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

/// Who is waiting for the confirm of one publish.
enum ConfirmTarget {
    case single(CheckedContinuation<Void, any Error>)
    case batch(PublishBatch, Int)

    func complete(_ result: Result<Void, AMQPError>) {
        switch self {
        case .single(let continuation): continuation.resume(with: result.mapError { $0 as any Error })
        case .batch(let batch, let index): batch.complete(index, result)
        }
    }
}

/// Executing the ``Command``s submitted by async callers.
extension ConnectionDriver {
    func execute(_ command: Command) throws {
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
                try live.ack(channel: reference.channel, deliveryTag: reference.deliveryTag, multiple: true)
                consumer.acks.settled(upTo: reference.deliveryTag)
            } else {
                consumer.acks.queueAck(reference.deliveryTag)
                channelsWithPendingAcks.insert(reference.channel)
            }
        case .nack(let reference, let multiple, let requeue):
            guard let consumer = liveConsumer(reference) else { return }
            try live.nack(channel: reference.channel, deliveryTag: reference.deliveryTag, multiple: multiple, requeue: requeue)
            core.metrics.rejected.increment()
            if multiple { consumer.acks.settled(upTo: reference.deliveryTag) } else { consumer.acks.settledIndividually(reference.deliveryTag) }
        case .reject(let reference, let requeue):
            guard let consumer = liveConsumer(reference) else { return }
            try live.reject(channel: reference.channel, deliveryTag: reference.deliveryTag, requeue: requeue)
            core.metrics.rejected.increment()
            consumer.acks.settledIndividually(reference.deliveryTag)
        case .declareExchange(let exchange, let continuation):
            do {
                try live.declareExchange(exchange)
                topology.declared(exchange)
                continuation.resume()
            } catch let error as AMQPError { continuation.resume(throwing: error) }
        case .declareQueue(let queue, let continuation):
            do {
                let info = try live.declareQueue(queue)
                topology.declared(queue)
                continuation.resume(returning: info)
            } catch let error as AMQPError { continuation.resume(throwing: error) }
        case .queueInfo(let name, let continuation):
            do { continuation.resume(returning: try live.declareQueue(AMQPQueue(name: name), passive: true)) } catch let error as AMQPError {
                continuation.resume(throwing: error)
            }
        case .bind(let binding, let continuation):
            do {
                try live.bind(binding)
                topology.bound(binding)
                continuation.resume()
            } catch let error as AMQPError { continuation.resume(throwing: error) }
        case .deleteQueue(let name, let continuation):
            do {
                try live.deleteQueue(name)
                topology.deletedQueue(name)
                continuation.resume()
            } catch let error as AMQPError { continuation.resume(throwing: error) }
        case .deleteExchange(let name, let continuation):
            do {
                try live.deleteExchange(name)
                topology.deletedExchange(name)
                continuation.resume()
            } catch let error as AMQPError { continuation.resume(throwing: error) }
        case .purgeQueue(let name, let continuation):
            do { continuation.resume(returning: try live.purgeQueue(name)) } catch let error as AMQPError {
                continuation.resume(throwing: error)
            }
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

    /// The consumer a delivery came from, if the channel that carried it is still the same
    /// incarnation; `nil` (and the acknowledgement is dropped) otherwise.
    private func liveConsumer(_ reference: DeliveryReference) -> Consumer? {
        guard let consumer = channels.owner(of: reference.channel, generation: reference.generation) else {
            logger.trace("amqp stale acknowledgement dropped", metadata: [AMQPLogKey.channel: "\(reference.channel)"])
            return nil
        }
        return consumer
    }

    private func publish(_ message: AMQPMessage, target: ConfirmTarget) throws {
        let deliveryTag = confirms.nextDeliveryTag
        do {
            try live.publish(message, extraHeaders: message.mandatory ? [Self.publishSeqHeader: .int(Int64(deliveryTag))] : [:])
        } catch let error as AMQPError {
            target.complete(.failure(error))  // could not be encoded; nothing was sent
            return
        }
        confirms.published(target)
        core.metrics.published.increment()
    }

    /// Opens a channel for `consumer` and registers it there, under a new channel generation.
    func startConsumer(_ consumer: Consumer) throws {
        let connection = try live
        let channel = channels.allocate()
        do {
            try connection.startConsumer(channel: channel, queue: consumer.queue, tag: consumer.tag, prefetch: consumer.prefetch)
        } catch let error as AMQPError {
            // The broker closed the channel (and we sent close-ok): the number is free again.
            channels.release(channel)
            throw error
        }
        consumer.channel = channel
        consumer.acks.reset()
        consumer.generation = channels.attach(consumer, to: channel)
    }

    /// Cancels `consumer` and waits for cancel-ok; with `finishStream`, also hands over the
    /// deliveries that arrived before it, ends its stream and closes its channel.
    func cancelConsumer(_ consumer: Consumer, finishStream: Bool) throws {
        let channel = consumer.channel
        if channel != 0 {
            do { try live.cancelConsumer(tag: consumer.tag, channel: channel) } catch let error as AMQPError {
                logger.debug("amqp cancel failed", metadata: [AMQPLogKey.consumerTag: "\(consumer.tag)", AMQPLogKey.error: "\(error)"])
            }
        }
        logger.debug("amqp consumer cancelled", metadata: [AMQPLogKey.consumerTag: "\(consumer.tag)"])
        guard finishStream else { return }
        // Deliveries that arrived before cancel-ok were queued by the library: hand them over first.
        try readFrames(limit: Int.max)
        consumers[consumer.tag] = nil
        consumer.stream.finish()
        if channel != 0, channels.isCurrent(channel, generation: consumer.generation) {
            channels.detach(channel)
            if try live.closeChannel(channel) { channels.release(channel) }
        }
    }
}
