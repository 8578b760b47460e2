/// The lifecycle of a task. Raw values are the strings stored in PostgreSQL and sent on the wire.
public enum TaskState: String, Sendable, Hashable, CaseIterable, Codable {
    case pending
    case inProgress = "in_progress"
    case complete
    case error
    case cancelled
    case resolvedManually = "resolved_manually"

    /// The task has ended (an operator may still retry an `error` task).
    public var isFinished: Bool { self != .pending && self != .inProgress }

    /// The allowed transitions (see docs/semantics.md).
    public static let machine = StateMachine<TaskState>(entity: "task", allowed: [
        .pending: [.inProgress, .cancelled],
        .inProgress: [.complete, .error, .cancelled],
        .error: [.pending, .resolvedManually],
        .complete: [],
        .cancelled: [],
        .resolvedManually: [],
    ])
}
