/// Storage as ``WorkflowMachine`` needs it: one atomic batch at a time.
///
/// A driver value stands for one batch (a transaction in PostgreSQL): it locks and loads the
/// rows the batch's inputs need, and applies the machine's effects, all of them or none.
/// Drivers never decide: every "what happens next" is the machine's. Two implementations:
/// `PostgresBatch` (TaskerPostgres, the only one production uses) and ``InMemoryWorkflowStore``
/// (fast, deterministic tests of the whole flow).
public protocol WorkflowDriver {
    /// Locks (where batches run concurrently) and loads what a batch of step reports needs:
    /// their tasks, their steps and the children of the steps reported completed.
    mutating func loadSnapshot(for reports: [StepResultMessage]) async throws -> WorkflowSnapshot

    /// Applies the machine's decisions: step rows with their audit transitions, fan-in counts,
    /// dispatches, task moves and lifecycle events.
    mutating func apply(_ effects: WorkflowEffects) async throws
}

extension WorkflowMachine {
    /// The finalizer's flow, the same for every driver: lock and load, decide, apply.
    public func recordResults(
        _ reports: [StepResultMessage],
        with driver: inout some WorkflowDriver,
        using generator: inout some RandomNumberGenerator
    ) async throws -> WorkflowEffects {
        guard !reports.isEmpty else { return WorkflowEffects() }
        let snapshot = try await driver.loadSnapshot(for: reports)
        let effects = recordResults(reports, snapshot: snapshot, using: &generator)
        try await driver.apply(effects)
        return effects
    }
}
