public import Foundation

/// A message to publish: where it goes and what it says. Written to the outbox in the same
/// transaction as the state change it announces, then published with confirms.
public struct OutboundMessage: Sendable, Hashable {
    public var exchange: String
    public var routingKey: String
    /// The AMQP `type` property: an event name, `workflow.viable_steps_discovered` or `step.cancel`.
    public var type: String
    /// The AMQP `message_id`; consumers may use it to drop duplicates.
    public var messageID: UUID
    public var body: Data
    /// The task the message is about, when the process that made it knows (not stored in the
    /// outbox: a relayed message has none). Publishers use it to attach the task's trace context.
    /// Not part of the message's identity: two messages that differ only here are equal.
    public var taskID: UUID?

    public init(exchange: String, routingKey: String, type: String, messageID: UUID, body: Data, taskID: UUID? = nil) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.type = type
        self.messageID = messageID
        self.body = body
        self.taskID = taskID
    }

    /// A lifecycle event on the events exchange, routed by its name.
    public static func event(_ event: LifecycleEvent, topology: WireTopology) throws -> OutboundMessage {
        OutboundMessage(
            exchange: topology.eventsExchange,
            routingKey: event.event.rawValue,
            type: event.event.rawValue,
            messageID: event.eventID,
            body: try WireCoding.encode(event),
            taskID: event.taskID
        )
    }

    /// A step cancellation on the control exchange, routed by the task's namespace.
    public static func cancellation(
        _ cancellation: StepCancellation, namespace: String, topology: WireTopology, messageID: UUID
    ) throws -> OutboundMessage {
        OutboundMessage(
            exchange: topology.controlExchange,
            routingKey: namespace,
            type: StepCancellation.messageType,
            messageID: messageID,
            body: try WireCoding.encode(cancellation)
        )
    }

    /// A step dispatch on the steps exchange, routed by namespace.
    public static func dispatch(_ dispatch: StepDispatch, topology: WireTopology, messageID: UUID) throws -> OutboundMessage {
        OutboundMessage(
            exchange: topology.stepsExchange,
            routingKey: dispatch.namespace,
            type: LifecycleEventName.viableStepsDiscovered.rawValue,
            messageID: messageID,
            body: try WireCoding.encode(dispatch),
            taskID: dispatch.taskID
        )
    }
}

extension OutboundMessage {
    /// Equal when everything that goes on the wire is: ``taskID`` is process-local metadata.
    public static func == (lhs: OutboundMessage, rhs: OutboundMessage) -> Bool {
        lhs.exchange == rhs.exchange && lhs.routingKey == rhs.routingKey && lhs.type == rhs.type
            && lhs.messageID == rhs.messageID && lhs.body == rhs.body
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(exchange)
        hasher.combine(routingKey)
        hasher.combine(type)
        hasher.combine(messageID)
        hasher.combine(body)
    }
}
