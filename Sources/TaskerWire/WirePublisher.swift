package import Foundation
internal import Metrics
package import Tracing
package import TaskerAMQP
package import TaskerCore

/// Publishes Tasker's messages on one connection, each with its kind's properties and flags
/// (``WireMessageKind``), and waits for the broker's confirm.
///
/// Every publish returns only once the broker has confirmed the message (or throws): a caller
/// acknowledges what it consumed, or deletes an outbox row, only after that.
///
/// ```swift
/// let wire = WirePublisher(connection: connection, topology: topology)
/// try await wire.publish(result)
/// ```
package struct WirePublisher: Sendable {
    package let connection: AMQPConnection
    package let topology: WireTopology

    package init(connection: AMQPConnection, topology: WireTopology) {
        self.connection = connection
        self.topology = topology
    }

    /// Publishes a dispatch or a lifecycle event written by the store (an outbox row).
    /// Dispatches are `mandatory`: a namespace without a worker queue fails the publish
    /// instead of dropping the step.
    /// - Parameter trace: The trace context to carry in the headers (``WireTracing``), if any.
    package func publish(_ message: OutboundMessage, trace: ServiceContext? = nil) async throws {
        let amqp = Self.amqpMessage(message, trace: trace)
        try await connection.publish(
            amqp.body, exchange: amqp.exchange, routingKey: amqp.routingKey, properties: amqp.properties, mandatory: amqp.mandatory)
    }

    /// Publishes every message at once, in one call of the connection (one wake-up of its
    /// thread, confirms pipelined); a failure affects its own message only.
    /// - Parameter traces: Trace contexts by task: a message about one of these tasks carries it.
    /// - Returns: For each message, in order, `nil` if the broker confirmed it, or why not.
    package func publishAll(_ messages: [OutboundMessage], traces: [UUID: ServiceContext] = [:]) async -> [(any Error)?] {
        guard !messages.isEmpty else { return [] }
        let batch = messages.map { Self.amqpMessage($0, trace: $0.taskID.flatMap { traces[$0] }) }
        return await connection.publish(contentsOf: batch).map { outcome -> (any Error)? in
            if case .failure(let error) = outcome { return error }
            return nil
        }
    }

    /// An outbox message as published: its kind's properties and flags, and the trace context.
    private static func amqpMessage(_ message: OutboundMessage, trace: ServiceContext?) -> AMQPMessage {
        let kind = WireMessageKind(outboundType: message.type)
        var properties = kind.properties(messageID: message.messageID, timestamp: Date())
        if let trace { properties.headers.merge(WireTracing.headers(for: trace)) { current, _ in current } }
        return AMQPMessage(
            body: Array(message.body), exchange: message.exchange, routingKey: message.routingKey,
            properties: properties, mandatory: kind.isMandatory)
    }

    /// Publishes a worker's report to the results exchange, with the trace context of the
    /// current span (the step attempt's) in its headers.
    package func publish(_ result: StepResultMessage) async throws {
        try await publish([StepResultBatch.Entry(result, trace: Self.currentTrace())])
    }

    /// Publishes reports to the results exchange: one alone as its own message (its trace in
    /// the headers, as ``publish(_:)-(StepResultMessage)``), several as one `step.results`
    /// message (``StepResultBatch``, each entry with its trace), split in as many messages as keep
    /// each body within ``StepResultMessage/maxBodyBytes``. Returns once the broker confirmed them all.
    package func publish(_ entries: [StepResultBatch.Entry]) async throws {
        guard entries.count > 1 else {
            guard let entry = entries.first else { return }
            let kind = WireMessageKind.stepResult(entry.result.kind)
            var properties = kind.properties(messageID: UUID.random(), timestamp: entry.result.occurredAt)
            for (key, value) in entry.trace where properties.headers[key] == nil { properties.headers[key] = .string(value) }
            try await connection.publish(
                Array(try WireCoding.encode(entry.result)), exchange: topology.resultsExchange, routingKey: topology.resultsRoutingKey,
                properties: properties, mandatory: kind.isMandatory)
            return
        }
        let body = try StepResultBatch.encode(entries)
        // A finalizer refuses a body over the limit of one report: a batch that would be
        // larger goes out as two halves, each split again if need be.
        guard body.count <= StepResultMessage.maxBodyBytes else {
            let half = entries.count / 2
            async let first: Void = publish(Array(entries[..<half]))
            try await publish(Array(entries[half...]))
            try await first
            return
        }
        let kind = WireMessageKind.stepResults
        try await connection.publish(
            Array(body),
            exchange: topology.resultsExchange,
            routingKey: topology.resultsRoutingKey,
            properties: kind.properties(messageID: UUID.random(), timestamp: Date()),
            mandatory: kind.isMandatory
        )
    }

    /// The trace context of the current span as the strings a ``StepResultBatch/Entry`` carries.
    package static func currentTrace() -> [String: String] {
        guard let current = ServiceContext.current else { return [:] }
        return WireTracing.headers(for: current).compactMapValues(\.stringValue)
    }

    /// Publishes a task request to the requests exchange.
    /// - Parameters:
    ///   - correlationID: Set, with `replyTo`, when the caller waits for the coordinator's answer.
    ///   - replyTo: The caller's reply queue.
    package func publish(_ request: TaskRequest, correlationID: String?, replyTo: String?) async throws {
        let kind = WireMessageKind.taskRequest
        try await connection.publish(
            Array(request.json.canonicalData()),
            exchange: topology.requestsExchange,
            routingKey: topology.requestRoutingKey(namespace: request.namespace, name: request.name),
            properties: kind.properties(messageID: UUID(), correlationID: correlationID, replyTo: replyTo),
            mandatory: kind.isMandatory
        )
    }

    /// Answers a task request on its `reply_to` queue (through the default exchange).
    package func reply(_ reply: TaskRequestReply, to replyTo: String, correlationID: String?) async throws {
        let kind = WireMessageKind.taskRequestReply
        try await connection.publish(
            Array(try WireCoding.encode(reply)),
            exchange: "",
            routingKey: replyTo,
            properties: kind.properties(correlationID: correlationID),
            mandatory: kind.isMandatory
        )
    }

    /// Moves a message that cannot be processed to the dead-letter exchange: its original body
    /// and properties, persistent, plus the reason (at most 1,000 characters) and the source
    /// queue in two headers. The caller acknowledges the delivery once this returns.
    package func deadLetter(_ delivery: AMQPDelivery, reason: String, sourceQueue: String) async throws {
        var properties = delivery.properties
        properties.headers[DeadLetterHeaders.reason] = .string(String(reason.prefix(1_000)))
        properties.headers[DeadLetterHeaders.sourceQueue] = .string(sourceQueue)
        properties.persistent = true
        try await connection.publish(
            delivery.body, exchange: topology.deadLetterExchange, routingKey: sourceQueue, properties: properties, mandatory: true)
        Counter(label: "tasker.dead_letters", dimensions: [("queue", sourceQueue)]).increment()
    }

    /// Publishes a dead-lettered message again, straight to the queue it came from (through
    /// the default exchange), with its original properties and without the dead-lettering headers.
    package func replay(_ delivery: AMQPDelivery, to sourceQueue: String) async throws {
        var properties = delivery.properties
        for header in DeadLetterHeaders.all { properties.headers[header] = nil }
        try await connection.publish(delivery.body, exchange: "", routingKey: sourceQueue, properties: properties, mandatory: true)
    }
}
