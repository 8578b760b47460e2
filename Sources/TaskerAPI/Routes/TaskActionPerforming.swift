public import Foundation
public import TaskerCore

/// The seam between the HTTP API and the operator actions (cancel, retry, resolve).
///
/// The action endpoints (`POST /v1/tasks/{task_id}/cancel`, …) validate the request and the
/// caller's `tasks:operate` scope, then call ``perform(_:)`` and answer its result. Without a
/// performer (``APIDependencies/actions`` is `nil`) they answer 501 `not_implemented`.
public protocol TaskActionPerforming: Sendable {
    /// Carries out one action, idempotently.
    /// - Throws: only for infrastructure trouble (the client gets a 503 or a 500); every answer
    ///   about the task itself is a ``TaskActionResult``.
    func perform(_ request: TaskActionRequest) async throws -> TaskActionResult
}

/// An operator's request, as the API received it.
public struct TaskActionRequest: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        case cancelTask
        case retryTask
        case resolveTask
        /// `step` is the step's id or its name, as given in the path.
        case retryStep(step: String)
        case resolveStep(step: String, results: JSONValue)
    }

    public var taskID: UUID
    public var action: Action
    /// Who asked: the API key's name or the token's subject.
    public var actor: String
    /// Why, as the operator wrote it.
    public var reason: String

    public init(taskID: UUID, action: Action, actor: String, reason: String) {
        self.taskID = taskID
        self.action = action
        self.actor = actor
        self.reason = reason
    }
}

/// What became of a ``TaskActionRequest``.
public struct TaskActionResult: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        /// Done now (200).
        case applied
        /// Its effect already held; nothing changed (200).
        case alreadyApplied = "already_applied"
        /// The state machine forbids it; ``TaskActionResult/message`` says why (409).
        case refused
        /// No such task, or no such step in it (404).
        case notFound = "not_found"
        /// The request itself is not acceptable (422), e.g. results too large.
        case invalid
    }

    /// A step the action moved.
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
    /// The task's state afterwards (`nil` when there is no such task).
    public var taskState: TaskState?
    /// The audit record's id, when applied.
    public var actionID: UUID?
    public var steps: [StepChange]

    public init(status: Status, message: String, taskState: TaskState?, actionID: UUID? = nil, steps: [StepChange] = []) {
        self.status = status
        self.message = message
        self.taskState = taskState
        self.actionID = actionID
        self.steps = steps
    }
}
