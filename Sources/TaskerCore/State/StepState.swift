/// The lifecycle of a step. Raw values are the strings stored in PostgreSQL and sent on the wire.
public enum StepState: String, Sendable, Hashable, CaseIterable, Codable {
    case pending
    case enqueued
    case inProgress = "in_progress"
    case complete
    case waitingForRetry = "waiting_for_retry"
    case error
    case cancelled
    case resolvedManually = "resolved_manually"

    /// The step's work is done and its children may run.
    public var satisfiesDependents: Bool { self == .complete || self == .resolvedManually }

    /// No transition leaves this state without an operator.
    public var isTerminal: Bool { self == .complete || self == .cancelled || self == .resolvedManually }

    /// Dispatched or running: an attempt that has a deadline (the sweeper watches it).
    public var hasDeadline: Bool { self == .enqueued || self == .inProgress }

    /// Work still under way for the task: dispatched, running, or waiting for a retry that
    /// will be dispatched. A task with such a step is not finished (``TaskProgress``).
    public var countsAsActive: Bool { self == .enqueued || self == .inProgress || self == .waitingForRetry }

    /// The allowed transitions (see docs/semantics.md).
    public static let machine = StateMachine<StepState>(entity: "step", allowed: [
        .pending: [.enqueued, .cancelled, .resolvedManually],
        .enqueued: [.inProgress, .cancelled],
        .inProgress: [.complete, .waitingForRetry, .error, .cancelled],
        .waitingForRetry: [.enqueued, .cancelled, .resolvedManually],
        .error: [.pending, .resolvedManually],
        .complete: [],
        .cancelled: [],
        .resolvedManually: [],
    ])
}
