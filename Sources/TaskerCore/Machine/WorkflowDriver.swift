public import Foundation

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

    /// Locks and loads what operator commands on `tasks` need: those tasks and every step of
    /// theirs (as rows and as children, with every edge). See ``WorkflowMachine/perform(_:snapshot:)``.
    mutating func loadSnapshot(forTasks tasks: [UUID]) async throws -> WorkflowSnapshot

    /// Applies the machine's decisions: step rows with their audit transitions, fan-in counts,
    /// dispatches, task moves and lifecycle events; for operator commands also the attempt
    /// bases, the audit records and the cancellations for workers.
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

extension WorkflowMachine {
    /// The operator's flow, the same for every driver: lock and load the commanded tasks,
    /// decide, apply.
    public func perform(_ commands: [OperatorCommand], with driver: inout some WorkflowDriver) async throws -> WorkflowEffects {
        guard !commands.isEmpty else { return WorkflowEffects() }
        let snapshot = try await driver.loadSnapshot(forTasks: Array(Set(commands.map(\.taskID))))
        let effects = perform(commands, snapshot: snapshot)
        try await driver.apply(effects)
        return effects
    }
}
