public import Foundation

/// What the ``WorkflowMachine`` needs to decide a batch of step reports: the rows a driver
/// locked and loaded (the tasks named by the reports, the reported steps, and the children of
/// those steps). A driver loads it under the locks that serialise decisions per task.
public struct WorkflowSnapshot: Sendable, Hashable {
    /// A task as locked.
    public struct Task: Sendable, Hashable {
        public var id: UUID
        public var state: TaskState
        /// Its step counts, as stored.
        public var progress: TaskProgress

        public init(id: UUID, state: TaskState, progress: TaskProgress) {
            self.id = id
            self.state = state
            self.progress = progress
        }
    }

    /// A child of a reported step, as locked: enough to decide fan-in.
    public struct Child: Sendable, Hashable {
        public var id: UUID
        public var taskID: UUID
        public var state: StepState
        /// Parents not yet `complete` / `resolved_manually`.
        public var unfinishedParents: Int

        public init(id: UUID, taskID: UUID, state: StepState, unfinishedParents: Int) {
            self.id = id
            self.taskID = taskID
            self.state = state
            self.unfinishedParents = unfinishedParents
        }
    }

    public var tasks: [UUID: Task]
    /// The reported steps.
    public var steps: [StepResultLedger.Step]
    /// The children of each reported step (edges parent → children).
    public var children: [UUID: [UUID]]
    /// Those children's rows.
    public var childRows: [UUID: Child]

    public init(tasks: [Task], steps: [StepResultLedger.Step], children: [UUID: [UUID]], childRows: [Child]) {
        self.tasks = Dictionary(tasks.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.steps = steps
        self.children = children
        self.childRows = Dictionary(childRows.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
