import Foundation

/// Applies operator commands, one after another, to the tasks of a ``WorkflowSnapshot`` in
/// memory, and collects what to write: like ``StepResultLedger`` for worker reports. Each
/// command sees what the commands before it in the batch did.
///
/// The snapshot must hold every step of each commanded task, with every step in `childRows`
/// (its unfinished-parent count) and every step's children in `children`: an operator command
/// may touch any step of its task, so the driver loads them all (a rare action may read the
/// whole task; worker reports never do).
///
/// Steps the ledger decides to dispatch are listed in ``dispatch``; the driver moves them
/// `pending → enqueued` after writing the other rows. Until then the ledger treats them as
/// `enqueued`; a later command of the batch that cancels one drops it from the list instead.
struct OperatorLedger {
    private var tasks: [UUID: WorkflowSnapshot.Task]
    private var steps: [UUID: StepResultLedger.Step]
    /// Each task's steps, in id order.
    private let stepsOfTask: [UUID: [UUID]]
    private let children: [UUID: [UUID]]
    private var unfinished: [UUID: Int]
    private var progress: [UUID: TaskProgress]
    private var rows: [UUID: StepResultLedger.StepRow] = [:]
    private var dispatching: [UUID] = []

    private(set) var transitions: [StepResultLedger.Transition] = []
    private(set) var taskMoves: [WorkflowEffects.TaskMove] = []
    private(set) var events: [LifecycleEvent] = []
    private(set) var outcomes: [OperatorOutcome] = []
    private(set) var records: [OperatorRecord] = []
    private(set) var attemptBases: [UUID: Int] = [:]
    private(set) var cancellations: [StepCancellation] = []
    /// Unfinished-parent counts this batch changed (their final values).
    private(set) var changedCounts: [UUID: Int] = [:]

    private let now: Date
    private let makeID: @Sendable () -> UUID

    /// The command being applied: its audit metadata and the steps it moved.
    struct Applying {
        var command: OperatorCommand
        var actionID: UUID
        var moved: [UUID: StepState] = [:]

        var metadata: JSONValue {
            [
                "action": .string(command.action.name), "action_id": .string(actionID.uuidString.lowercased()),
                "actor": .string(command.actor), "reason": .string(command.reason),
            ]
        }

        var details: [String: JSONValue] { metadata.objectValue ?? [:] }
    }

    init(snapshot: WorkflowSnapshot, now: Date, makeID: @escaping @Sendable () -> UUID) {
        tasks = snapshot.tasks
        steps = Dictionary(snapshot.steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var stepsOfTask: [UUID: [UUID]] = [:]
        for step in snapshot.steps.sorted(by: { UUID.precedes($0.id, $1.id) }) {
            stepsOfTask[step.taskID, default: []].append(step.id)
        }
        self.stepsOfTask = stepsOfTask
        children = snapshot.children
        unfinished = snapshot.childRows.mapValues(\.unfinishedParents)
        progress = snapshot.tasks.mapValues(\.progress)
        self.now = now
        self.makeID = makeID
    }

    /// The final rows of the steps that changed, in id order.
    var changedRows: [StepResultLedger.StepRow] { rows.values.sorted { UUID.precedes($0.id, $1.id) } }

    /// Steps to move `pending → enqueued` and dispatch, in id order.
    var dispatch: [UUID] { dispatching.sorted(by: UUID.precedes) }

    // MARK: Commands

    /// Applies one command; its outcome is appended to ``outcomes``.
    mutating func apply(_ command: OperatorCommand) {
        let problems = command.problems
        guard problems.isEmpty else {
            return finish(command, .invalid, problems.joined(separator: "; "), nil)
        }
        guard let task = tasks[command.taskID] else {
            return finish(command, .notFound, "task \(command.taskID.uuidString.lowercased()) does not exist", nil)
        }
        var step: StepResultLedger.Step?
        if let reference = command.action.step {
            guard let found = lookUp(reference, in: task.id) else {
                return finish(command, .notFound, "task \(task.id.uuidString.lowercased()) has no step \(reference)", nil)
            }
            step = found
        }
        var applying = Applying(command: command, actionID: makeID())
        let verdict: Verdict
        switch command.action {
        case .cancelTask: verdict = cancelTask(task.id, &applying)
        case .retryTask: verdict = retryTask(task.id, &applying)
        case .retryStep: verdict = retryStep(step!, &applying)
        case .resolveStep(_, let results): verdict = resolveStep(step!, results: results, &applying)
        case .resolveTask: verdict = resolveTask(task.id, &applying)
        }
        switch verdict {
        case .applied(let message):
            var resolved: JSONValue?
            if case .resolveStep(_, let results) = command.action { resolved = results }
            records.append(OperatorRecord(
                id: applying.actionID, taskID: task.id, stepID: step?.id, action: command.action.name, actor: command.actor,
                reason: command.reason, results: resolved, occurredAt: now))
            let moved = applying.moved.keys.sorted(by: UUID.precedes).map { id in
                OperatorOutcome.StepChange(stepID: id, stepName: steps[id]!.name, from: applying.moved[id]!, to: state(of: id))
            }
            outcomes.append(OperatorOutcome(
                status: .applied, message: message, taskID: task.id, taskState: tasks[task.id]?.state, actionID: applying.actionID,
                steps: moved))
        case .alreadyApplied(let message):
            finish(command, .alreadyApplied, message, tasks[task.id]?.state)
        case .refused(let message):
            finish(command, .refused, message, tasks[task.id]?.state)
        }
    }

    enum Verdict {
        case applied(String)
        case alreadyApplied(String)
        case refused(String)
    }

    private mutating func finish(_ command: OperatorCommand, _ status: OperatorOutcome.Status, _ message: String, _ state: TaskState?) {
        outcomes.append(OperatorOutcome(status: status, message: message, taskID: command.taskID, taskState: state))
    }

    private func lookUp(_ reference: OperatorCommand.StepReference, in task: UUID) -> StepResultLedger.Step? {
        switch reference {
        case .id(let id):
            guard let step = steps[id], step.taskID == task else { return nil }
            return step
        case .name(let name):
            return (stepsOfTask[task] ?? []).lazy.compactMap { steps[$0] }.first { $0.name == name }
        }
    }

    // MARK: Shared moves

    /// The step's state as the batch left it (a step about to be dispatched counts as `enqueued`).
    func state(of id: UUID) -> StepState {
        dispatching.contains(id) ? .enqueued : steps[id]!.state
    }

    func isDispatching(_ id: UUID) -> Bool { dispatching.contains(id) }

    func taskState(_ id: UUID) -> TaskState { tasks[id]!.state }

    func steps(of task: UUID) -> [StepResultLedger.Step] { (stepsOfTask[task] ?? []).compactMap { steps[$0] } }

    func unfinishedParents(of id: UUID) -> Int { unfinished[id] ?? 0 }

    /// Moves a step, appending its audit row (with the command's metadata) and counting it.
    mutating func move(
        _ id: UUID, to state: StepState, _ applying: inout Applying, change: (inout StepResultLedger.StepRow) -> Void = { _ in }
    ) {
        if let index = dispatching.firstIndex(of: id) {
            // Decided earlier in the batch but not written yet: it never leaves `pending`.
            dispatching.remove(at: index)
            progress[steps[id]!.taskID]?.record(from: .enqueued, to: .pending)
        }
        guard var step = steps[id] else { return }
        assert(StepState.machine.canTransition(from: step.state, to: state), "\(step.state) → \(state)")
        if applying.moved[id] == nil { applying.moved[id] = step.state }
        var row = rows[id] ?? StepResultLedger.StepRow(id: id, state: step.state, attempts: step.attempts)
        transitions.append(StepResultLedger.Transition(
            stepID: id, taskID: step.taskID, from: step.state, to: state, sortKey: step.lastSortKey + 1, metadata: applying.metadata))
        progress[step.taskID]?.record(from: step.state, to: state)
        row.state = state
        row.deadline = nil
        row.nextRetryAt = nil
        change(&row)
        step.state = state
        step.lastSortKey += 1
        steps[id] = step
        rows[id] = row
    }

    /// Moves a task, appending its audit row.
    mutating func moveTask(_ id: UUID, to state: TaskState, metadata: JSONValue) {
        guard var task = tasks[id] else { return }
        assert(TaskState.machine.canTransition(from: task.state, to: state), "\(task.state) → \(state)")
        taskMoves.append(.init(id: id, from: task.state, to: state, metadata: metadata))
        task.state = state
        tasks[id] = task
    }

    mutating func setAttemptBase(_ id: UUID) {
        guard var step = steps[id] else { return }
        step.attemptBase = step.attempts
        steps[id] = step
        attemptBases[id] = step.attempts
    }

    /// A completion-like decrement of the unfinished-parent counts of `id`'s children.
    mutating func releaseChildren(of id: UUID) {
        for child in children[id] ?? [] {
            let count = (unfinished[child] ?? 0) - 1
            unfinished[child] = count
            changedCounts[child] = count
        }
    }

    mutating func cancelInFlight(_ id: UUID, attempt: Int, reason: String) {
        guard let step = steps[id] else { return }
        cancellations.append(StepCancellation(
            taskID: step.taskID, stepID: id, stepName: step.name, attempt: attempt, reason: reason, occurredAt: now))
    }

    mutating func announce(
        _ name: LifecycleEventName, task: UUID, step id: UUID? = nil, attempt: Int? = nil, results: JSONValue? = nil,
        details: [String: JSONValue]? = nil
    ) {
        let step = id.flatMap { steps[$0] }
        events.append(LifecycleEvent(
            event: name, eventID: makeID(), occurredAt: now, taskID: task, stepID: step?.id, stepName: step?.name,
            attempt: step.map { attempt ?? $0.attempts }, maxAttempts: step?.maxAttempts, results: results, details: details))
    }

    /// Dispatches the task's pending steps whose parents are all done, then settles the task's
    /// state from its counts: a failed task with work to do again is reopened
    /// (`error → pending → in_progress`), a running task with nothing left to do ends
    /// `complete` or `error`, like the finalizer ends it.
    mutating func discoverAndSettle(_ taskID: UUID, _ applying: inout Applying) {
        guard let task = tasks[taskID], task.state == .inProgress || task.state == .error else { return }
        for step in steps(of: taskID) where step.state == .pending && unfinishedParents(of: step.id) <= 0 && !dispatching.contains(step.id) {
            dispatching.append(step.id)
            progress[taskID]?.record(from: .pending, to: .enqueued)
            if applying.moved[step.id] == nil { applying.moved[step.id] = .pending }
        }
        guard let counts = progress[taskID] else { return }
        let outcome = counts.outcome
        if task.state == .error {
            guard outcome != .failed else { return }
            moveTask(taskID, to: .pending, metadata: applying.metadata)
            moveTask(taskID, to: .inProgress, metadata: applying.metadata)
        }
        guard outcome != .running else { return }
        let final: TaskState = outcome == .complete ? .complete : .error
        let summary: [String: JSONValue] = [
            "steps_total": .int(Int64(counts.total)), "steps_done": .int(Int64(counts.done)),
            "steps_error": .int(Int64(counts.failed)),
        ]
        moveTask(taskID, to: final, metadata: .object(summary.merging(applying.details) { first, _ in first }))
        announce(final == .complete ? .taskCompleted : .taskFailed, task: taskID, details: summary)
        announce(.taskFinalized, task: taskID, details: ["state": .string(final.rawValue)])
    }
}
