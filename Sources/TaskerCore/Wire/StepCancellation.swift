public import Foundation

/// Tells the workers that a step attempt was cancelled by an operator (message type
/// `step.cancel` on the control exchange, routed by the task's namespace): a worker running
/// that attempt cancels its handler's Swift task and reports nothing.
///
/// Only an optimisation: the step is already `cancelled` in the database when this is sent,
/// so a result that still arrives is acknowledged and ignored.
public struct StepCancellation: Sendable, Hashable, Codable {
    /// The AMQP `type` of the message.
    public static let messageType = "step.cancel"

    public var schemaVersion: Int
    public var taskID: UUID
    public var stepID: UUID
    public var stepName: String
    /// The attempt to stop (a worker running another attempt of the step ignores the message).
    public var attempt: Int
    /// Why, for the worker's log (the operator's reason).
    public var reason: String
    public var occurredAt: Date

    public init(taskID: UUID, stepID: UUID, stepName: String, attempt: Int, reason: String, occurredAt: Date) {
        self.schemaVersion = WireCoding.schemaVersion
        self.taskID = taskID
        self.stepID = stepID
        self.stepName = stepName
        self.attempt = attempt
        self.reason = reason
        self.occurredAt = occurredAt
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case taskID = "task_id"
        case stepID = "step_id"
        case stepName = "step_name"
        case attempt
        case reason
        case occurredAt = "occurred_at"
    }
}
