public import Foundation

/// What a worker reports about one step attempt, on the results exchange.
public struct StepResultMessage: Sendable, Hashable, Codable {
    /// `step.started`, `step.completed` or `step.failed`.
    public struct Kind: WireName {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let started = Kind(rawValue: LifecycleEventName.stepStarted.rawValue)
        public static let completed = Kind(rawValue: LifecycleEventName.stepCompleted.rawValue)
        public static let failed = Kind(rawValue: LifecycleEventName.stepFailed.rawValue)
    }

    public var schemaVersion: Int
    public var kind: Kind
    public var taskID: UUID
    public var stepID: UUID
    public var stepName: String
    public var attempt: Int
    /// The worker that ran it (host:pid), for the audit trail.
    public var workerID: String
    public var occurredAt: Date
    /// For `completed` and `failed`: when the handler started (the `step.started` report of the
    /// same attempt may arrive in the same batch, or not at all if it was lost).
    public var startedAt: Date?
    /// For `completed`: the handler's output.
    public var results: JSONValue?
    /// For `completed` and `failed`: how long the handler ran.
    public var durationMs: Double?
    /// For `failed`.
    public var errorMessage: String?
    public var errorKind: FailureKind?
    public var errorClass: String?
    /// For `failed`: a delay the handler asked for before the next attempt (e.g. Retry-After).
    public var retryAfterSeconds: Double?

    public init(
        kind: Kind,
        taskID: UUID,
        stepID: UUID,
        stepName: String,
        attempt: Int,
        workerID: String,
        occurredAt: Date,
        startedAt: Date? = nil,
        results: JSONValue? = nil,
        durationMs: Double? = nil,
        errorMessage: String? = nil,
        errorKind: FailureKind? = nil,
        errorClass: String? = nil,
        retryAfterSeconds: Double? = nil
    ) {
        self.schemaVersion = WireCoding.schemaVersion
        self.kind = kind
        self.taskID = taskID
        self.stepID = stepID
        self.stepName = stepName
        self.attempt = attempt
        self.workerID = workerID
        self.occurredAt = occurredAt
        self.startedAt = startedAt
        self.results = results
        self.durationMs = durationMs
        self.errorMessage = errorMessage
        self.errorKind = errorKind
        self.errorClass = errorClass
        self.retryAfterSeconds = retryAfterSeconds
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case kind = "event"
        case taskID = "task_id"
        case stepID = "step_id"
        case stepName = "step_name"
        case attempt
        case workerID = "worker_id"
        case occurredAt = "occurred_at"
        case startedAt = "started_at"
        case results
        case durationMs = "duration_ms"
        case errorMessage = "error_message"
        case errorKind = "error_kind"
        case errorClass = "error_class"
        case retryAfterSeconds = "retry_after_seconds"
    }
}

extension StepResultMessage: CheckedWireMessage {
    /// The largest result body a finalizer accepts: ``InputLimit/stepResultBody`` (1 MiB).
    public static let maxBodyBytes = InputLimit.stepResultBody.maximum

    static var bodyLimit: InputLimit { .stepResultBody }

    /// `results` nested deeper than ``InputLimit/nestingDepth`` are refused.
    func check() throws(WireDecodingError) {
        if let exceeded = results?.nestingLimitExceeded(place: "results") {
            throw WireDecodingError(limit: exceeded)
        }
    }
}
