public import Foundation

/// An in-memory driver of ``WorkflowMachine``: tasks, steps, edges and audit trails in
/// dictionaries, with the same "lock and load a snapshot, let the machine decide, apply the
/// effects" flow as the PostgreSQL driver. Each call is one atomic batch, as a transaction is;
/// running batches one after another in any order is what concurrent finalizers do under
/// per-task locks. For fast, deterministic tests of the whole decision flow; production uses
/// PostgreSQL.
public struct InMemoryWorkflowStore: WorkflowDriver, Sendable, Equatable {
    /// One audit row (the sort key is its position in the trail).
    public struct Move: Sendable, Hashable, CustomStringConvertible {
        public var from: String
        public var to: String
        public var description: String { "\(from)→\(to)" }
    }

    /// A step as stored.
    public struct Step: Sendable, Hashable {
        public var id: UUID
        public var taskID: UUID
        public var name: String
        public var state: StepState = .pending
        public var attempts = 0
        /// Attempts made before an operator's last retry (``StepResultLedger/Step/attemptBase``).
        public var attemptBase = 0
        public var retry: RetryPolicy
        public var timeoutSeconds: Double
        public var parents: [UUID] = []
        public var unfinishedParents = 0
        public var results: JSONValue?
        public var trail: [Move] = []
    }

    /// A task as stored.
    public struct Task: Sendable, Hashable {
        public var id: UUID
        public var state: TaskState = .pending
        public var context: JSONValue
        public var progress: TaskProgress
        public var steps: [UUID] = []
        public var trail: [Move] = []
    }

    /// A step handed to workers: which attempt to run.
    public struct Dispatch: Sendable, Hashable {
        public var taskID: UUID
        public var stepID: UUID
        public var stepName: String
        public var attempt: Int
    }

    public private(set) var tasks: [UUID: Task] = [:]
    public private(set) var steps: [UUID: Step] = [:]
    private var children: [UUID: [UUID]] = [:]
    /// Every dispatch, in order: what the broker would carry to workers.
    public private(set) var dispatches: [Dispatch] = []
    /// Every cancellation sent to workers, in order.
    public private(set) var cancellations: [StepCancellation] = []
    /// The audit records of applied operator commands, in order.
    public private(set) var operatorRecords: [OperatorRecord] = []

    public init() {}

    /// Stores a task of `template` and starts it: `pending → in_progress`, root steps dispatched.
    public mutating func startTask(_ template: TaskTemplate, id: UUID, context: JSONValue, makeID: () -> UUID) {
        var task = Task(id: id, context: context, progress: TaskProgress(total: template.steps.count, done: 0, failed: 0, active: 0))
        let ids = template.steps.map { _ in makeID() }
        for (index, step) in template.steps.enumerated() {
            var stored = Step(id: ids[index], taskID: id, name: step.name, retry: step.retry, timeoutSeconds: step.timeoutSeconds)
            stored.parents = template.graph.parents[index].map { ids[$0] }
            stored.unfinishedParents = stored.parents.count
            stored.trail = [Move(from: "", to: StepState.pending.rawValue)]
            for parent in stored.parents { children[parent, default: []].append(stored.id) }
            steps[stored.id] = stored
        }
        task.steps = ids
        task.state = .inProgress
        task.trail = [Move(from: "", to: "pending"), Move(from: "pending", to: "in_progress")]
        tasks[id] = task
        for index in template.graph.roots { enqueue(ids[index]) }
    }

    /// One finalizer batch, through the machine's driver flow (``WorkflowMachine/recordResults(_:with:using:)``).
    @discardableResult
    public mutating func recordResults(
        _ reports: [StepResultMessage], machine: WorkflowMachine, using generator: inout some RandomNumberGenerator
    ) async -> WorkflowEffects {
        // Nothing in this driver throws.
        (try? await machine.recordResults(reports, with: &self, using: &generator)) ?? WorkflowEffects()
    }

    /// One batch of operator commands, through the machine's driver flow
    /// (``WorkflowMachine/perform(_:with:)``).
    @discardableResult
    public mutating func perform(_ commands: [OperatorCommand], machine: WorkflowMachine) async -> WorkflowEffects {
        // Nothing in this driver throws.
        (try? await machine.perform(commands, with: &self)) ?? WorkflowEffects()
    }

    /// Moves steps whose retry is due back to `enqueued` and dispatches their next attempt (the
    /// reenqueuer's work; the delay itself is the test's business here).
    public mutating func reenqueueWaiting() {
        for id in steps.keys.sorted(by: UUID.precedes) where steps[id]?.state == .waitingForRetry {
            enqueue(id)
        }
    }

    public func loadSnapshot(for reports: [StepResultMessage]) -> WorkflowSnapshot {
        let taskRows = Set(reports.map(\.taskID)).compactMap { id in
            tasks[id].map { WorkflowSnapshot.Task(id: id, state: $0.state, progress: $0.progress) }
        }
        let stepRows = Set(reports.map(\.stepID)).compactMap { id in
            steps[id].map {
                ledgerRow($0)
            }
        }
        var edges: [UUID: [UUID]] = [:]
        var childRows: [WorkflowSnapshot.Child] = []
        for step in stepRows {
            edges[step.id] = children[step.id] ?? []
            for child in children[step.id] ?? [] {
                if let row = steps[child] {
                    childRows.append(.init(id: child, taskID: row.taskID, state: row.state, unfinishedParents: row.unfinishedParents))
                }
            }
        }
        return WorkflowSnapshot(tasks: taskRows, steps: stepRows, children: edges, childRows: childRows)
    }

    /// Every step of `taskIDs` (all of them are rows and children), as operator commands need.
    public func loadSnapshot(forTasks taskIDs: [UUID]) -> WorkflowSnapshot {
        let found = Set(taskIDs).compactMap { tasks[$0] }
        let stepRows = found.flatMap(\.steps).compactMap { steps[$0].map(ledgerRow) }
        var edges: [UUID: [UUID]] = [:]
        for step in stepRows { edges[step.id] = children[step.id] ?? [] }
        return WorkflowSnapshot(
            tasks: found.map { WorkflowSnapshot.Task(id: $0.id, state: $0.state, progress: $0.progress) },
            steps: stepRows, children: edges,
            childRows: stepRows.map { .init(id: $0.id, taskID: $0.taskID, state: $0.state, unfinishedParents: steps[$0.id]!.unfinishedParents) })
    }

    private func ledgerRow(_ step: Step) -> StepResultLedger.Step {
        StepResultLedger.Step(
            id: step.id, taskID: step.taskID, name: step.name, state: step.state, attempts: step.attempts, retry: step.retry,
            timeoutSeconds: step.timeoutSeconds, lastSortKey: step.trail.count, attemptBase: step.attemptBase)
    }

    public mutating func apply(_ effects: WorkflowEffects) {
        for row in effects.stepRows {
            steps[row.id]?.state = row.state
            steps[row.id]?.attempts = row.attempts
            if let results = row.results { steps[row.id]?.results = results }
        }
        for transition in effects.transitions {
            steps[transition.stepID]?.trail.append(Move(from: transition.from.rawValue, to: transition.to.rawValue))
            tasks[transition.taskID]?.progress.record(from: transition.from, to: transition.to)
        }
        for (id, count) in effects.unfinishedParents { steps[id]?.unfinishedParents = count }
        for (id, base) in effects.attemptBases { steps[id]?.attemptBase = base }
        for id in effects.dispatch { enqueue(id) }
        for move in effects.taskMoves {
            tasks[move.id]?.state = move.to
            tasks[move.id]?.trail.append(Move(from: move.from.rawValue, to: move.to.rawValue))
        }
        cancellations += effects.cancellations
        operatorRecords += effects.operatorRecords
    }

    private mutating func enqueue(_ id: UUID) {
        guard let step = steps[id], StepState.machine.sources(of: .enqueued).contains(step.state) else { return }
        steps[id]?.state = .enqueued
        steps[id]?.trail.append(Move(from: step.state.rawValue, to: StepState.enqueued.rawValue))
        tasks[step.taskID]?.progress.record(from: step.state, to: .enqueued)
        dispatches.append(Dispatch(taskID: step.taskID, stepID: id, stepName: step.name, attempt: step.attempts + 1))
    }
}
