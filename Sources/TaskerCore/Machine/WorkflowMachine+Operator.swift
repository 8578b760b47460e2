import Foundation

extension WorkflowMachine {
    /// Decides a batch of operator commands against the loaded rows, in order (each command
    /// sees what the earlier ones did).
    ///
    /// `snapshot` must hold, for every task a command names, the task and all of its steps:
    /// every step in `steps` and in `childRows` (with its unfinished-parent count) and every
    /// step's children in `children`. The effects carry one ``OperatorOutcome`` per command in
    /// ``WorkflowEffects/actions``, the audit records of those applied, the step and task
    /// moves (a task may move several times: `error → pending → in_progress`), new
    /// unfinished-parent counts, dispatches, attempt bases, cancellations for workers and the
    /// lifecycle events (`task.cancelled`, `task.retry_requested`, `step.retry_requested`,
    /// `step.resolved_manually`, `task.resolved_manually`, ...).
    public func perform(_ commands: [OperatorCommand], snapshot: WorkflowSnapshot) -> WorkflowEffects {
        var ledger = OperatorLedger(snapshot: snapshot, now: now, makeID: makeEventID)
        for command in commands { ledger.apply(command) }
        var effects = WorkflowEffects()
        effects.actions = ledger.outcomes
        effects.operatorRecords = ledger.records
        effects.stepRows = ledger.changedRows
        effects.transitions = ledger.transitions
        effects.unfinishedParents = ledger.changedCounts
        effects.dispatch = ledger.dispatch
        effects.taskMoves = ledger.taskMoves
        effects.events = ledger.events
        effects.attemptBases = ledger.attemptBases
        effects.cancellations = ledger.cancellations
        return effects
    }
}
