public import Foundation

extension WorkflowMachine {
    /// The workflow events of a batch for the tasks it leaves running, one of each kind per task:
    /// - `workflow.task_reenqueue_delayed`: steps of the task now wait for a retry; the
    ///   reenqueuer takes the task up again at the earliest of their `next_retry_at` (details:
    ///   `next_retry_at` in seconds since 1970, `delay_seconds`, `steps_waiting`).
    /// - `workflow.no_viable_steps`: a step of the task completed but made no step viable (its
    ///   children wait for other parents; details: `steps_active`, what the task waits for).
    func waitingEvents(
        ledger: StepResultLedger, dispatched: [UUID], snapshot: WorkflowSnapshot, progress: [UUID: TaskProgress], running: Set<UUID>
    ) -> [LifecycleEvent] {
        let rows = Dictionary(ledger.changedRows.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        var retries: [UUID: (first: Date, steps: Int)] = [:]
        var completedIn: Set<UUID> = []
        for transition in ledger.transitions where running.contains(transition.taskID) {
            switch transition.to {
            case .waitingForRetry:
                guard let at = rows[transition.stepID]?.nextRetryAt else { continue }
                let known = retries[transition.taskID]
                retries[transition.taskID] = (min(known?.first ?? at, at), (known?.steps ?? 0) + 1)
            case .complete:
                completedIn.insert(transition.taskID)
            default:
                continue
            }
        }
        let dispatchedIn = Set(dispatched.compactMap { snapshot.childRows[$0]?.taskID })
        var events: [LifecycleEvent] = []
        for task in running.sorted(by: UUID.precedes) {
            if let retry = retries[task] {
                events.append(LifecycleEvent(
                    event: .taskReenqueueDelayed, eventID: makeEventID(), occurredAt: now, taskID: task,
                    details: [
                        "next_retry_at": .double(retry.first.timeIntervalSince1970),
                        "delay_seconds": .double(max(0, retry.first.timeIntervalSince(now))), "steps_waiting": .int(Int64(retry.steps)),
                    ]))
            }
            if completedIn.contains(task), !dispatchedIn.contains(task) {
                events.append(LifecycleEvent(
                    event: .noViableSteps, eventID: makeEventID(), occurredAt: now, taskID: task,
                    details: ["steps_active": .int(Int64(progress[task]?.active ?? 0))]))
            }
        }
        return events
    }

    /// `workflow.task_reenqueue_requested` for each task whose due retries the reenqueuer
    /// dispatches now (details: `steps`, how many of its steps run again).
    public func reenqueueRequested(_ due: [(stepID: UUID, taskID: UUID)]) -> [LifecycleEvent] {
        let perTask = Dictionary(grouping: due, by: \.taskID)
        return perTask.keys.sorted(by: UUID.precedes).map { task in
            LifecycleEvent(
                event: .taskReenqueueRequested, eventID: makeEventID(), occurredAt: now, taskID: task,
                details: ["steps": .int(Int64(perTask[task]?.count ?? 0))])
        }
    }
}
