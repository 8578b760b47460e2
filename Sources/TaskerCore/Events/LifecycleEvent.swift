public import Foundation

/// The payload of a lifecycle event, with the standard keys every consumer may rely on.
///
/// Every event has `event`, `event_id`, `occurred_at` and `task_id`; step events add
/// `step_id`, `step_name`, `attempt` and `max_attempts`; completions add `duration_ms`
/// and `results`; failures add `error_message`, `error_kind` and `error_class`.
/// Decoding never fails on a missing optional key.
public struct LifecycleEvent: Sendable, Hashable, Codable {
    public var event: LifecycleEventName
    public var eventID: UUID
    public var occurredAt: Date
    public var taskID: UUID?
    public var stepID: UUID?
    public var stepName: String?
    public var attempt: Int?
    public var maxAttempts: Int?
    public var durationMs: Double?
    public var results: JSONValue?
    public var errorMessage: String?
    public var errorKind: FailureKind?
    public var errorClass: String?
    /// Anything else the event carries (state names, retry time, rejection errors, ...).
    public var details: [String: JSONValue]?

    public init(
        event: LifecycleEventName,
        eventID: UUID,
        occurredAt: Date,
        taskID: UUID?,
        stepID: UUID? = nil,
        stepName: String? = nil,
        attempt: Int? = nil,
        maxAttempts: Int? = nil,
        durationMs: Double? = nil,
        results: JSONValue? = nil,
        errorMessage: String? = nil,
        errorKind: FailureKind? = nil,
        errorClass: String? = nil,
        details: [String: JSONValue]? = nil
    ) {
        self.event = event
        self.eventID = eventID
        self.occurredAt = occurredAt
        self.taskID = taskID
        self.stepID = stepID
        self.stepName = stepName
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.durationMs = durationMs
        self.results = results
        self.errorMessage = errorMessage
        self.errorKind = errorKind
        self.errorClass = errorClass
        self.details = details
    }

    enum CodingKeys: String, CodingKey {
        case event
        case eventID = "event_id"
        case occurredAt = "occurred_at"
        case taskID = "task_id"
        case stepID = "step_id"
        case stepName = "step_name"
        case attempt
        case maxAttempts = "max_attempts"
        case durationMs = "duration_ms"
        case results
        case errorMessage = "error_message"
        case errorKind = "error_kind"
        case errorClass = "error_class"
        case details
    }

    /// Encodes every key a payload must carry, `task_id` included: it is `null` for events
    /// about a request that never became a task (`task.request_rejected`), never missing.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(event, forKey: .event)
        try container.encode(eventID, forKey: .eventID)
        try container.encode(occurredAt, forKey: .occurredAt)
        if let taskID { try container.encode(taskID, forKey: .taskID) } else { try container.encodeNil(forKey: .taskID) }
        try container.encodeIfPresent(stepID, forKey: .stepID)
        try container.encodeIfPresent(stepName, forKey: .stepName)
        try container.encodeIfPresent(attempt, forKey: .attempt)
        try container.encodeIfPresent(maxAttempts, forKey: .maxAttempts)
        try container.encodeIfPresent(durationMs, forKey: .durationMs)
        try container.encodeIfPresent(results, forKey: .results)
        try container.encodeIfPresent(errorMessage, forKey: .errorMessage)
        try container.encodeIfPresent(errorKind, forKey: .errorKind)
        try container.encodeIfPresent(errorClass, forKey: .errorClass)
        try container.encodeIfPresent(details, forKey: .details)
    }

    /// Keys a payload of this event must carry (telemetry consumers rely on them).
    public var requiredKeys: [String] {
        var keys = ["event", "event_id", "occurred_at", "task_id"]
        if event.isStepEvent { keys += ["step_id", "step_name", "attempt", "max_attempts"] }
        if event == .stepCompleted { keys += ["duration_ms", "results"] }
        if event == .stepFailed { keys += ["error_message", "error_kind", "error_class"] }
        return keys
    }

    /// Keys from ``requiredKeys`` this payload is missing: empty for a well-formed event.
    public var missingKeys: [String] {
        let present: [String: Bool] = [
            "event": true, "event_id": true, "occurred_at": true,
            "task_id": taskID != nil || event == .taskRequestRejected,
            "step_id": stepID != nil, "step_name": stepName != nil, "attempt": attempt != nil,
            "max_attempts": maxAttempts != nil, "duration_ms": durationMs != nil, "results": results != nil,
            "error_message": errorMessage != nil, "error_kind": errorKind != nil, "error_class": errorClass != nil,
        ]
        return requiredKeys.filter { present[$0] != true }
    }
}
