public import Foundation

extension WorkflowMachine {
    /// How storing a planned task went (the driver inserts; identity conflicts are found there).
    public enum Creation: Sendable, Hashable {
        /// Stored, `in_progress`, with its steps `pending`.
        case created
        /// Another task has the plan's identity: nothing was stored; this is its id.
        case duplicate(of: UUID)
        /// The plan's template version is not registered: nothing was stored.
        case templateMissing
    }

    /// Decides what starting tasks means: a created task is announced (`task.created`,
    /// `task.started`) and its root steps (those without parents) are dispatched; a duplicate
    /// is announced as `task.request_deduplicated` on the existing task and nothing runs.
    public func startTasks(_ started: [(plan: TaskPlan, creation: Creation)]) -> WorkflowEffects {
        var effects = WorkflowEffects()
        for (plan, creation) in started {
            switch creation {
            case .created:
                effects.events.append(LifecycleEvent(
                    event: .taskCreated, eventID: makeEventID(), occurredAt: now, taskID: plan.taskID,
                    details: ["template": .string(plan.template.description)]))
                effects.events.append(LifecycleEvent(event: .taskStarted, eventID: makeEventID(), occurredAt: now, taskID: plan.taskID))
                let children = Set(plan.edges.map(\.child))
                effects.dispatch += plan.steps.filter { !children.contains($0.id) }.map(\.id)
            case .duplicate(let existing):
                effects.events.append(LifecycleEvent(
                    event: .taskRequestDeduplicated, eventID: makeEventID(), occurredAt: now, taskID: existing))
            case .templateMissing:
                continue
            }
        }
        return effects
    }
}
