/// Which lifecycle events an installation publishes on the events exchange
/// (`TASKER_LIFECYCLE_EVENTS`).
///
/// Events are announcements for observers; the pipeline does not need them, with one
/// exception: `step.retry_scheduled` wakes the reenqueuer, so it is published in every mode.
/// Request rejections (`task.request_rejected`) are how a submitter learns its request was
/// refused, so they too are always published.
public enum LifecycleEventSelection: String, Sendable, CaseIterable {
    /// Every task and step event: one or more messages per step attempt.
    case all
    /// Task and workflow events (created, started, re-enqueued, no viable steps, completed,
    /// finalized, ...): a few messages per task. The default: a step's history is in its audit trail.
    case task
    /// None but the two that are always published.
    case none

    /// Events published whatever the selection.
    public static let alwaysPublished: Set<LifecycleEventName> = [.stepRetryScheduled, .taskRequestRejected]

    /// Whether an event of this name is published.
    public func publishes(_ name: LifecycleEventName) -> Bool {
        if Self.alwaysPublished.contains(name) { return true }
        switch self {
        case .all: return true
        case .task: return !name.isStepEvent
        case .none: return false
        }
    }
}
