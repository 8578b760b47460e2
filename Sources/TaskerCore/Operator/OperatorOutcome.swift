public import Foundation

/// What became of an ``OperatorCommand``.
///
/// | status | meaning | HTTP |
/// |---|---|---|
/// | `applied` | the task changed; the audit trail records who and why | 200 |
/// | `already_applied` | the command's effect already holds (a repeat): nothing changed | 200 |
/// | `refused` | the task's or step's state forbids it; ``message`` says why | 409 |
/// | `not_found` | no such task, or no such step in it | 404 |
/// | `invalid` | the command itself is malformed (no actor or reason, results too large) | 422 |
public struct OperatorOutcome: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
        case applied
        case alreadyApplied = "already_applied"
        case refused
        case notFound = "not_found"
        case invalid
    }

    /// A step the command moved: its state before and after (`error → enqueued` for a retried step).
    public struct StepChange: Sendable, Hashable {
        public var stepID: UUID
        public var stepName: String
        public var from: StepState
        public var to: StepState

        public init(stepID: UUID, stepName: String, from: StepState, to: StepState) {
            self.stepID = stepID
            self.stepName = stepName
            self.from = from
            self.to = to
        }
    }

    public var status: Status
    /// One sentence for people: what was done, or why nothing was.
    public var message: String
    public var taskID: UUID
    /// The task's state after the command (`nil` when the task does not exist).
    public var taskState: TaskState?
    /// The audit record's id, when applied.
    public var actionID: UUID?
    /// The steps the command moved, in id order (empty unless applied).
    public var steps: [StepChange]

    public init(
        status: Status, message: String, taskID: UUID, taskState: TaskState?, actionID: UUID? = nil, steps: [StepChange] = []
    ) {
        self.status = status
        self.message = message
        self.taskID = taskID
        self.taskState = taskState
        self.actionID = actionID
        self.steps = steps
    }

    /// Whether the command's effect holds now (applied by this command or an earlier one).
    public var succeeded: Bool { status == .applied || status == .alreadyApplied }
}

/// One applied operator command as the audit trail keeps it (the `operator_actions` table).
public struct OperatorRecord: Sendable, Hashable {
    public var id: UUID
    public var taskID: UUID
    public var stepID: UUID?
    /// ``OperatorCommand/Action/name``.
    public var action: String
    public var actor: String
    public var reason: String
    /// The results supplied with `resolve_step`.
    public var results: JSONValue?
    public var occurredAt: Date

    public init(
        id: UUID, taskID: UUID, stepID: UUID?, action: String, actor: String, reason: String, results: JSONValue?, occurredAt: Date
    ) {
        self.id = id
        self.taskID = taskID
        self.stepID = stepID
        self.action = action
        self.actor = actor
        self.reason = reason
        self.results = results
        self.occurredAt = occurredAt
    }
}

extension OperatorOutcome {
    /// The outcome as JSON (`status`, `message`, `task_id`, `task_state`, `action_id`, and the
    /// `steps` moved, each `step_id`, `name`, `from_state`, `to_state`), as the CLI prints it and
    /// the HTTP API answers it.
    public var json: JSONValue {
        [
            "status": .string(status.rawValue), "message": .string(message), "task_id": .string(taskID.uuidString.lowercased()),
            "task_state": taskState.map { .string($0.rawValue) } ?? .null,
            "action_id": actionID.map { .string($0.uuidString.lowercased()) } ?? .null,
            "steps": .array(steps.map { change in
                [
                    "step_id": .string(change.stepID.uuidString.lowercased()), "name": .string(change.stepName),
                    "from_state": .string(change.from.rawValue), "to_state": .string(change.to.rawValue),
                ]
            }),
        ]
    }
}
