public import Foundation

/// A `workflow.viable_steps_discovered` message: everything a worker needs to run one step attempt.
///
/// Workers need no database: the task context, the parents' results and the handler
/// configuration travel in the message.
public struct StepDispatch: Sendable, Hashable, Codable {
    public var schemaVersion: Int
    public var taskID: UUID
    public var stepID: UUID
    public var stepName: String
    public var handler: String
    public var namespace: String
    public var templateName: String
    public var templateVersion: String
    /// The attempt this dispatch is for, counting from 1.
    public var attempt: Int
    public var maxAttempts: Int
    public var context: JSONValue
    /// Results of the parent steps, by step name.
    public var parentResults: [String: JSONValue]
    public var handlerConfig: JSONValue
    public var timeoutSeconds: Double
    /// When the attempt is due to finish: dispatch time + timeout. The sweeper fails it after this plus a grace period.
    public var deadline: Date
    public var dispatchedAt: Date

    public init(
        taskID: UUID,
        stepID: UUID,
        stepName: String,
        handler: String,
        namespace: String,
        templateName: String,
        templateVersion: String,
        attempt: Int,
        maxAttempts: Int,
        context: JSONValue,
        parentResults: [String: JSONValue],
        handlerConfig: JSONValue,
        timeoutSeconds: Double,
        deadline: Date,
        dispatchedAt: Date
    ) {
        self.schemaVersion = WireCoding.schemaVersion
        self.taskID = taskID
        self.stepID = stepID
        self.stepName = stepName
        self.handler = handler
        self.namespace = namespace
        self.templateName = templateName
        self.templateVersion = templateVersion
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.context = context
        self.parentResults = parentResults
        self.handlerConfig = handlerConfig
        self.timeoutSeconds = timeoutSeconds
        self.deadline = deadline
        self.dispatchedAt = dispatchedAt
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case taskID = "task_id"
        case stepID = "step_id"
        case stepName = "step_name"
        case handler, namespace
        case templateName = "template_name"
        case templateVersion = "template_version"
        case attempt
        case maxAttempts = "max_attempts"
        case context
        case parentResults = "parent_results"
        case handlerConfig = "handler_config"
        case timeoutSeconds = "timeout_seconds"
        case deadline
        case dispatchedAt = "dispatched_at"
    }
}

extension StepDispatch: CheckedWireMessage {
    /// The largest dispatch body a worker accepts: ``InputLimit/stepDispatchBody`` (16 MiB).
    public static let maxBodyBytes = InputLimit.stepDispatchBody.maximum

    static var bodyLimit: InputLimit { .stepDispatchBody }

    /// Values nested deeper than ``InputLimit/nestingDepth``, and a `timeout_seconds` over
    /// ``StepTemplate/maxDurationSeconds`` (which would trap when turned into a `Duration`), are refused.
    func check() throws(WireDecodingError) {
        if let exceeded = context.nestingLimitExceeded(place: "context")
            ?? handlerConfig.nestingLimitExceeded(place: "handler_config")
        {
            throw WireDecodingError(limit: exceeded)
        }
        for name in parentResults.keys.sorted() {
            if let exceeded = parentResults[name]!.nestingLimitExceeded(place: "parent_results.\(name)") {
                throw WireDecodingError(limit: exceeded)
            }
        }
        guard timeoutSeconds <= StepTemplate.maxDurationSeconds else {
            throw WireDecodingError(
                reason: "timeout_seconds: \(timeoutSeconds) is over the limit of \(Int(StepTemplate.maxDurationSeconds)) seconds")
        }
    }
}
