public import Foundation

/// The one place that decides what happens after workers report: which transitions a batch of
/// step reports makes (``StepResultLedger``: duplicates and stale reports ignored, retries
/// scheduled by ``RetryDecision``), which children become viable (fan-in by unfinished-parent
/// counts), and which tasks are finished (``TaskProgress``). Pure: the clock, the random
/// source (retry jitter) and event ids are injected; a driver (PostgreSQL in production,
/// ``InMemoryWorkflowStore`` in tests) loads a ``WorkflowSnapshot`` under its locks and applies
/// the ``WorkflowEffects`` atomically.
public struct WorkflowMachine: Sendable {
    public var now: Date
    public var makeEventID: @Sendable () -> UUID

    public init(now: Date, makeEventID: @escaping @Sendable () -> UUID = { UUID.random() }) {
        self.now = now
        self.makeEventID = makeEventID
    }

    /// Decides a batch of step reports against the loaded rows.
    public func recordResults(
        _ reports: [StepResultMessage], snapshot: WorkflowSnapshot, using generator: inout some RandomNumberGenerator
    ) -> WorkflowEffects {
        var effects = WorkflowEffects()
        var ledger = StepResultLedger(steps: snapshot.steps, now: now, makeEventID: makeEventID)
        for report in reports { ledger.apply(report, using: &generator) }
        effects.outcomes = ledger.outcomes
        effects.stepRows = ledger.changedRows
        effects.transitions = ledger.transitions
        effects.events = ledger.events

        // Progress after the batch: the stored counts plus what its transitions changed.
        var progress = snapshot.tasks.mapValues(\.progress)
        for transition in ledger.transitions {
            progress[transition.taskID]?.record(from: transition.from, to: transition.to)
        }

        // Fan-in: a completion counts against each child's unfinished parents; a pending child
        // of a running task whose count reaches zero is dispatched.
        var counts: [UUID: Int] = [:]
        for parent in ledger.completed {
            for child in snapshot.children[parent] ?? [] {
                guard let row = snapshot.childRows[child] else { continue }
                counts[child] = (counts[child] ?? row.unfinishedParents) - 1
            }
        }
        effects.unfinishedParents = counts
        effects.dispatch = counts.compactMap { id, remaining -> UUID? in
            guard remaining <= 0, let row = snapshot.childRows[id], row.state == .pending,
                snapshot.tasks[row.taskID]?.state == .inProgress
            else { return nil }
            return id
        }.sorted(by: UUID.precedes)
        for id in effects.dispatch {
            if let task = snapshot.childRows[id]?.taskID { progress[task]?.record(from: .pending, to: .enqueued) }
        }

        // Finalization: only tasks a step of which finished in this batch can be done.
        var finished: Set<UUID> = []
        for id in ledger.tasksToCheck.sorted(by: UUID.precedes) {
            guard let task = snapshot.tasks[id], task.state == .inProgress, let counts = progress[id] else { continue }
            let final: TaskState
            switch counts.outcome {
            case .running: continue
            case .complete: final = .complete
            case .failed: final = .error
            }
            let summary: [String: JSONValue] = [
                "steps_total": .int(Int64(counts.total)), "steps_done": .int(Int64(counts.done)),
                "steps_error": .int(Int64(counts.failed)),
            ]
            effects.taskMoves.append(.init(id: id, from: .inProgress, to: final, metadata: .object(summary)))
            effects.events.append(LifecycleEvent(
                event: final == .complete ? .taskCompleted : .taskFailed, eventID: makeEventID(), occurredAt: now, taskID: id,
                details: summary))
            effects.events.append(LifecycleEvent(
                event: .taskFinalized, eventID: makeEventID(), occurredAt: now, taskID: id,
                details: ["state": .string(final.rawValue)]))
            finished.insert(id)
        }
        let running = Set(snapshot.tasks.values.filter { $0.state == .inProgress }.map(\.id)).subtracting(finished)
        effects.events += waitingEvents(ledger: ledger, dispatched: effects.dispatch, snapshot: snapshot, progress: progress, running: running)
        return effects
    }
}
