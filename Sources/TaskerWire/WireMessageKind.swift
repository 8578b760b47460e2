package import Foundation
package import TaskerAMQP
package import TaskerCore

/// Every kind of message Tasker publishes, and the AMQP properties and flags each one gets
/// (docs/wire-protocol.md).
///
/// A message is recognised by its kind, never by comparing its AMQP `type` string:
/// ``init(outboundType:)`` reads the `type` of an outbox row once, at the boundary.
///
/// ```swift
/// let properties = WireMessageKind.stepResult(.completed).properties(messageID: UUID(), timestamp: result.occurredAt)
/// ```
package enum WireMessageKind: Sendable, Hashable {
    /// A task request (clients → coordinator), AMQP type `task.request`.
    case taskRequest
    /// The coordinator's answer on the request's `reply_to`, AMQP type `task.request_reply`.
    case taskRequestReply
    /// A step dispatch (orchestration → workers), AMQP type `workflow.viable_steps_discovered`.
    case stepDispatch
    /// A worker's report on one attempt (workers → finalizer); the AMQP type is the report's kind.
    case stepResult(StepResultMessage.Kind)
    /// Several reports of one worker in one message, AMQP type `step.results` (``StepResultBatch``).
    case stepResults
    /// A lifecycle event (observers); the AMQP type is the event's name.
    case event(LifecycleEventName)
    /// An operator cancelled a step: workers running it stop (AMQP type `step.cancel`).
    case stepCancellation

    /// The AMQP `type` of a task request.
    static let taskRequestType = "task.request"
    /// The AMQP `type` of a reply to a task request.
    static let taskRequestReplyType = "task.request_reply"

    /// The kind of an ``OutboundMessage`` (a dispatch or a lifecycle event), from its `type`.
    package init(outboundType type: String) {
        if type == StepCancellation.messageType {
            self = .stepCancellation
            return
        }
        let name = LifecycleEventName(rawValue: type)
        self = name == .viableStepsDiscovered ? .stepDispatch : .event(name)
    }

    /// The AMQP `type` property.
    package var type: String {
        switch self {
        case .taskRequest: Self.taskRequestType
        case .taskRequestReply: Self.taskRequestReplyType
        case .stepDispatch: LifecycleEventName.viableStepsDiscovered.rawValue
        case .stepResult(let kind): kind.rawValue
        case .stepResults: StepResultBatch.event
        case .event(let name): name.rawValue
        case .stepCancellation: StepCancellation.messageType
        }
    }

    /// Published with delivery mode 2. Only replies and cancellations are transient: they go
    /// to private, auto-deleted queues (a reply's caller asks again if one is lost; a lost
    /// cancellation only means a handler runs to its end and its result is ignored).
    package var isPersistent: Bool {
        self != .taskRequestReply && self != .stepCancellation
    }

    /// Published `mandatory`: a message no queue receives fails the publish instead of being
    /// dropped (a namespace nobody serves, a topology not declared yet). Events are not
    /// mandatory (nobody has to observe them), nor are replies (the caller may have gone).
    package var isMandatory: Bool {
        switch self {
        case .taskRequest, .stepDispatch, .stepResult, .stepResults: true
        case .taskRequestReply, .event, .stepCancellation: false
        }
    }

    /// The properties of a message of this kind: the JSON content type, the schema-version
    /// header, the `type`, the persistence, and the optional fields the caller sets.
    /// - Parameters:
    ///   - messageID: The AMQP `message_id` (consumers may use it to drop duplicates).
    ///   - correlationID: The AMQP `correlation_id` (requests and their replies).
    ///   - replyTo: The queue to answer on (requests).
    ///   - timestamp: The AMQP `timestamp`, in whole seconds since 1970.
    package func properties(
        messageID: UUID? = nil,
        correlationID: String? = nil,
        replyTo: String? = nil,
        timestamp: Date? = nil
    ) -> AMQPProperties {
        AMQPProperties(
            contentType: WireCoding.contentType,
            messageID: messageID?.uuidString,
            correlationID: correlationID,
            replyTo: replyTo,
            type: type,
            timestamp: timestamp.map { UInt64(max(0, $0.timeIntervalSince1970)) },
            persistent: isPersistent,
            headers: [WireCoding.schemaVersionHeader: .int(Int64(WireCoding.schemaVersion))]
        )
    }
}
