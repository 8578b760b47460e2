public import Foundation

/// What the ``WorkflowMachine`` decided for a batch; a driver applies all of it atomically.
public struct WorkflowEffects: Sendable, Hashable {
    /// One per report, in order: applied, or ignored with the reason.
    public var outcomes: [StepResultLedger.Outcome] = []
    /// The final row of every step the reports changed, and their audit rows in order.
    public var stepRows: [StepResultLedger.StepRow] = []
    public var transitions: [StepResultLedger.Transition] = []
    /// New unfinished-parent counts of the children of steps completed in this batch.
    public var unfinishedParents: [UUID: Int] = [:]
    /// Steps to move `pending → enqueued` and dispatch, in id order (fan-in: their last parent
    /// completed in this batch).
    public var dispatch: [UUID] = []
    /// Task state changes, in order, with their audit metadata. A task may move more than once
    /// in a batch (an operator's retry of a failed task: `error → pending → in_progress`).
    public var taskMoves: [TaskMove] = []
    /// Lifecycle events, in order (step events first, then task events).
    public var events: [LifecycleEvent] = []

    // Operator commands (``WorkflowMachine/perform(_:snapshot:)``).

    /// One per command, in order.
    public var actions: [OperatorOutcome] = []
    /// The audit records of the applied commands.
    public var operatorRecords: [OperatorRecord] = []
    /// Steps an operator retried: the new attempt base (their attempts so far), which restarts
    /// the retry budget without reusing attempt numbers.
    public var attemptBases: [UUID: Int] = [:]
    /// Attempts in flight on workers when their step was cancelled: workers are told to stop.
    public var cancellations: [StepCancellation] = []

    /// A task's state change, with the audit metadata to record.
    public struct TaskMove: Sendable, Hashable {
        public var id: UUID
        public var from: TaskState
        public var to: TaskState
        public var metadata: JSONValue

        public init(id: UUID, from: TaskState, to: TaskState, metadata: JSONValue = .object([:])) {
            self.id = id
            self.from = from
            self.to = to
            self.metadata = metadata
        }
    }

    public init() {}

    /// The tasks this batch moved, with their final state (finished or not).
    public var finishedTasks: [UUID: TaskState] {
        Dictionary(taskMoves.map { ($0.id, $0.to) }, uniquingKeysWith: { _, last in last })
    }
}
