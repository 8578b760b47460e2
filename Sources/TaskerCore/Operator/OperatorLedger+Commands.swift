import Foundation

/// The rules of each operator command (docs/semantics.md, "Operator actions"). Each one first
/// checks whether its effect already holds (a repeat: nothing changes) and whether the states
/// allow it (``StepState/machine``, ``TaskState/machine``), then moves what it must.
extension OperatorLedger {
    /// Cancels a pending or running task: its unfinished steps (pending, enqueued, running,
    /// waiting for a retry) end `cancelled`; workers running an attempt are told to stop.
    /// Failed and finished steps keep their state.
    mutating func cancelTask(_ id: UUID, _ applying: inout Applying) -> Verdict {
        let current = taskState(id)
        switch current {
        case .cancelled:
            return .alreadyApplied("task is already cancelled")
        case .pending, .inProgress:
            break
        case .error:
            return .refused("task is error: a failed task is not cancelled; retry it or resolve it manually")
        default:
            return .refused("task is \(current.rawValue): it has ended and cannot be cancelled")
        }
        var cancelled: [String] = []
        for step in steps(of: id) {
            let state = state(of: step.id)
            guard [.pending, .enqueued, .inProgress, .waitingForRetry].contains(state) else { continue }
            // A dispatch decided earlier in this batch was never sent: nobody runs it.
            let sent = (state == .enqueued && !isDispatching(step.id)) || state == .inProgress
            let attempt = state == .enqueued ? step.attempts + 1 : step.attempts
            if sent { cancelInFlight(step.id, attempt: attempt, reason: applying.command.reason) }
            move(step.id, to: .cancelled, &applying)
            announce(.stepCancelled, task: id, step: step.id, attempt: attempt, details: applying.details)
            cancelled.append(step.name)
        }
        moveTask(id, to: .cancelled, metadata: applying.metadata)
        var details = applying.details
        details["steps_cancelled"] = .int(Int64(cancelled.count))
        announce(.taskCancelled, task: id, details: details)
        announce(.taskFinalized, task: id, details: ["state": .string(TaskState.cancelled.rawValue)])
        return .applied("task cancelled (\(cancelled.count) unfinished step(s) cancelled)")
    }

    /// Retries every failed step of a failed task (or of a running task with a failed branch).
    mutating func retryTask(_ id: UUID, _ applying: inout Applying) -> Verdict {
        let current = taskState(id)
        guard current == .error || current == .inProgress else {
            return .refused("task is \(current.rawValue): only a failed task (error) can be retried")
        }
        let failed = steps(of: id).filter { state(of: $0.id) == .error }
        guard !failed.isEmpty else {
            return current == .inProgress
                ? .alreadyApplied("task is in_progress and none of its steps has failed: nothing to retry")
                : .refused("task is error but none of its steps is: nothing to retry")
        }
        for step in failed { restart(step, &applying) }
        var details = applying.details
        details["steps"] = .array(failed.map { .string($0.name) })
        announce(.taskRetryRequested, task: id, details: details)
        discoverAndSettle(id, &applying)
        return .applied("retrying \(failed.count) failed step(s): \(failed.map(\.name).joined(separator: ", "))")
    }

    /// Retries one failed step.
    mutating func retryStep(_ step: StepResultLedger.Step, _ applying: inout Applying) -> Verdict {
        let current = state(of: step.id)
        switch current {
        case .error:
            break
        case .enqueued, .inProgress, .waitingForRetry:
            return .alreadyApplied("step '\(step.name)' is \(current.rawValue): it is already running or due to run")
        case .pending:
            return .refused("step '\(step.name)' is pending: it has not run yet (it waits for its parents); only a failed step can be retried")
        default:
            return .refused("step '\(step.name)' is \(current.rawValue): only a failed step (error) can be retried")
        }
        let task = taskState(step.taskID)
        guard task == .error || task == .inProgress else {
            return .refused("task is \(task.rawValue): steps of a task that has ended cannot be retried")
        }
        restart(step, &applying)
        discoverAndSettle(step.taskID, &applying)
        return .applied("retrying step '\(step.name)' (attempt \(step.attempts + 1))")
    }

    /// Declares a step done with the operator's results: its children count it as completed.
    mutating func resolveStep(_ step: StepResultLedger.Step, results: JSONValue, _ applying: inout Applying) -> Verdict {
        let current = state(of: step.id)
        switch current {
        case .resolvedManually:
            return .alreadyApplied("step '\(step.name)' is already resolved manually")
        case .pending, .waitingForRetry, .error:
            break
        case .enqueued, .inProgress:
            return .refused(
                "step '\(step.name)' is \(current.rawValue): a worker may be running it; wait for its result (or its deadline), or cancel the task")
        default:
            return .refused("step '\(step.name)' is \(current.rawValue): only a pending, waiting or failed step can be resolved manually")
        }
        let task = taskState(step.taskID)
        guard task == .error || task == .inProgress else {
            return .refused("task is \(task.rawValue): steps of a task that has ended cannot be resolved")
        }
        move(step.id, to: .resolvedManually, &applying) { $0.results = results }
        releaseChildren(of: step.id)
        announce(.stepResolvedManually, task: step.taskID, step: step.id, results: results, details: applying.details)
        discoverAndSettle(step.taskID, &applying)
        return .applied("step '\(step.name)' resolved manually")
    }

    /// Declares a failed task done (`error → resolved_manually`); its steps keep their states.
    mutating func resolveTask(_ id: UUID, _ applying: inout Applying) -> Verdict {
        let current = taskState(id)
        switch current {
        case .resolvedManually:
            return .alreadyApplied("task is already resolved manually")
        case .error:
            break
        case .pending, .inProgress:
            return .refused(
                "task is \(current.rawValue): only a failed task (error) can be resolved manually; cancel it, or resolve its steps")
        default:
            return .refused("task is \(current.rawValue): it has ended")
        }
        moveTask(id, to: .resolvedManually, metadata: applying.metadata)
        announce(.taskResolvedManually, task: id, details: applying.details)
        announce(.taskFinalized, task: id, details: ["state": .string(TaskState.resolvedManually.rawValue)])
        return .applied("task resolved manually")
    }

    /// `error → pending` with a fresh retry budget; attempt numbers keep counting.
    private mutating func restart(_ step: StepResultLedger.Step, _ applying: inout Applying) {
        move(step.id, to: .pending, &applying)
        setAttemptBase(step.id)
        announce(.stepRetryRequested, task: step.taskID, step: step.id, attempt: step.attempts + 1, details: applying.details)
    }
}
