public import Foundation

/// An operator's request to change a task by hand: cancel it, retry it or one of its failed
/// steps, or declare a step or the task done. Decided by ``WorkflowMachine/perform(_:snapshot:)``
/// like any other input; who asked (``actor``) and why (``reason``) go into the audit trail.
///
/// ```swift
/// let command = OperatorCommand(taskID: id, action: .retryStep(.name("charge_card")), actor: "alice", reason: "gateway fixed")
/// ```
public struct OperatorCommand: Sendable, Hashable {
    /// What to do.
    public enum Action: Sendable, Hashable {
        /// Cancel a pending or running task: its unfinished steps end `cancelled`, workers
        /// running them are told to stop, and results that arrive later are ignored.
        case cancelTask
        /// Retry a task's failed steps (the task may be `error`, or still `in_progress` with a
        /// failed branch): each gets a fresh attempt budget and runs again; what they blocked follows.
        case retryTask
        /// Retry one failed step (fresh attempt budget).
        case retryStep(StepReference)
        /// Declare a step done with the given results: its children run as if it had completed.
        case resolveStep(StepReference, results: JSONValue)
        /// Declare a failed task done (`error → resolved_manually`).
        case resolveTask

        /// The action's name in the audit trail and in events (`cancel_task`, `retry_step`, ...).
        public var name: String {
            switch self {
            case .cancelTask: "cancel_task"
            case .retryTask: "retry_task"
            case .retryStep: "retry_step"
            case .resolveStep: "resolve_step"
            case .resolveTask: "resolve_task"
            }
        }

        /// The step the action is about, if it is about one.
        public var step: StepReference? {
            switch self {
            case .retryStep(let step), .resolveStep(let step, _): step
            case .cancelTask, .retryTask, .resolveTask: nil
            }
        }
    }

    /// A step of the task, by id or by its (per-task unique) name.
    public enum StepReference: Sendable, Hashable, CustomStringConvertible {
        case id(UUID)
        case name(String)

        /// A UUID string is an id; anything else is a name.
        public init(_ text: String) {
            if let id = UUID(uuidString: text) { self = .id(id) } else { self = .name(text) }
        }

        public var description: String {
            switch self {
            case .id(let id): id.uuidString.lowercased()
            case .name(let name): "'\(name)'"
            }
        }
    }

    public var taskID: UUID
    public var action: Action
    /// Who asked (a user name, an API key's name): recorded, required.
    public var actor: String
    /// Why: recorded, required.
    public var reason: String

    public init(taskID: UUID, action: Action, actor: String, reason: String) {
        self.taskID = taskID
        self.action = action
        self.actor = actor
        self.reason = reason
    }

    /// The longest accepted ``actor``, in characters.
    public static let maximumActorLength = 200
    /// The longest accepted ``reason``, in characters.
    public static let maximumReasonLength = 2_000

    /// What is wrong with the command itself, whatever the task's state: empty or overlong
    /// actor or reason, results over the limits. Empty when it is well formed.
    public var problems: [String] {
        var problems: [String] = []
        let actor = actor.trimmingCharacters(in: .whitespacesAndNewlines)
        if actor.isEmpty { problems.append("actor is required") }
        if actor.count > Self.maximumActorLength { problems.append("actor is longer than \(Self.maximumActorLength) characters") }
        if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { problems.append("reason is required") }
        if reason.count > Self.maximumReasonLength { problems.append("reason is longer than \(Self.maximumReasonLength) characters") }
        if case .resolveStep(let step, let results) = action {
            if case .name(let name) = step, name.isEmpty { problems.append("step name is empty") }
            if let exceeded = results.nestingLimitExceeded(place: "results") ?? results.sizeLimitExceeded(.manualResults, place: "results") {
                problems.append(exceeded.description)
            }
        }
        if case .retryStep(.name(let name)) = action, name.isEmpty { problems.append("step name is empty") }
        return problems
    }
}
