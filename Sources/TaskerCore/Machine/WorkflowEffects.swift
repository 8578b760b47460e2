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
    /// Tasks that finished, with the move and its summary.
    public var taskMoves: [TaskMove] = []
    /// Lifecycle events, in order (step events first, then task events).
    public var events: [LifecycleEvent] = []

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

    /// The tasks this batch finished, with their final state.
    public var finishedTasks: [UUID: TaskState] {
        Dictionary(taskMoves.map { ($0.id, $0.to) }, uniquingKeysWith: { first, _ in first })
    }
}
