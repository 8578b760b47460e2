public import Foundation
public import TaskerCore

/// A task as stored.
public struct StoredTask: Sendable, Hashable {
    public var id: UUID
    public var template: TemplateKey
    public var state: TaskState
    public var context: JSONValue
    public var identityHash: String?
    public var initiator: String?
    public var sourceSystem: String?
    public var reason: String?
    public var tags: [String]
    public var priority: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var completedAt: Date?
}

/// A step as stored.
public struct StoredStep: Sendable, Hashable {
    public var id: UUID
    public var taskID: UUID
    public var name: String
    public var handler: String
    public var position: Int
    public var state: StepState
    public var attempts: Int
    /// Attempts made before an operator's last retry: the retry budget restarts there, attempt
    /// numbers keep counting (``StepResultLedger/Step/attemptBase``).
    public var attemptBase: Int
    public var retry: RetryPolicy
    public var timeoutSeconds: Double
    public var handlerConfig: JSONValue
    public var nextRetryAt: Date?
    public var inputs: JSONValue?
    public var results: JSONValue?
    public var lastError: JSONValue?
    /// Ids of the parent steps.
    public var parents: [UUID]

    /// The last attempt the retry budget allows (`max_attempts` in dispatches and events).
    public var maxAttempts: Int { attemptBase + retry.maxAttempts }

    /// What readiness and finalization look at (attempts counted since the last operator retry).
    public var snapshot: StepSnapshot {
        StepSnapshot(state: state, attempts: attempts - attemptBase, retry: retry, nextRetryAt: nextRetryAt)
    }
}

/// One row of an audit trail.
public struct TransitionRecord: Sendable, Hashable {
    public var fromState: String?
    public var toState: String
    public var sortKey: Int
    public var mostRecent: Bool
    public var metadata: JSONValue
    public var createdAt: Date
}

/// A task with its steps and full transition history.
public struct TaskDetail: Sendable, Hashable {
    public var task: StoredTask
    /// In template order.
    public var steps: [StoredStep]
    public var taskTransitions: [TransitionRecord]
    /// Per step id, ordered by `sort_key`.
    public var stepTransitions: [UUID: [TransitionRecord]]
    /// The operator actions applied to the task (who, what, why), oldest first.
    public var operatorActions: [OperatorRecord]

    /// The step named `name`.
    public func step(named name: String) -> StoredStep? { steps.first { $0.name == name } }
}

/// The result of asking for a task to be created.
public struct TaskCreation: Sendable, Hashable {
    public var taskID: UUID
    /// `true` when a task with the same identity already existed; nothing new was stored.
    public var duplicate: Bool
}

/// The result of registering a template version.
public struct TemplateRegistration: Sendable, Hashable {
    public var id: Int64
    /// `false` when the same content was already registered.
    public var created: Bool

    public init(id: Int64, created: Bool) {
        self.id = id
        self.created = created
    }
}
