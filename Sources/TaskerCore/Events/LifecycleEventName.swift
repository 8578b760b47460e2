/// The name of a lifecycle event; also its routing key on the `tasker.events` exchange.
public struct LifecycleEventName: WireName {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    // Task events
    public static let taskCreated = Self(rawValue: "task.created")
    public static let taskStarted = Self(rawValue: "task.started")
    public static let taskCompleted = Self(rawValue: "task.completed")
    public static let taskFailed = Self(rawValue: "task.failed")
    public static let taskCancelled = Self(rawValue: "task.cancelled")
    public static let taskResolvedManually = Self(rawValue: "task.resolved_manually")
    public static let taskRetryRequested = Self(rawValue: "task.retry_requested")
    public static let taskRequestRejected = Self(rawValue: "task.request_rejected")
    public static let taskRequestDeduplicated = Self(rawValue: "task.request_deduplicated")
    // Step events
    public static let stepEnqueued = Self(rawValue: "step.enqueued")
    public static let stepStarted = Self(rawValue: "step.started")
    public static let stepCompleted = Self(rawValue: "step.completed")
    public static let stepFailed = Self(rawValue: "step.failed")
    public static let stepRetryScheduled = Self(rawValue: "step.retry_scheduled")
    /// An operator retried a failed step (fresh attempt budget).
    public static let stepRetryRequested = Self(rawValue: "step.retry_requested")
    public static let stepCancelled = Self(rawValue: "step.cancelled")
    public static let stepResolvedManually = Self(rawValue: "step.resolved_manually")
    // Workflow events
    public static let viableStepsDiscovered = Self(rawValue: "workflow.viable_steps_discovered")
    public static let noViableSteps = Self(rawValue: "workflow.no_viable_steps")
    public static let taskReenqueueRequested = Self(rawValue: "workflow.task_reenqueue_requested")
    public static let taskReenqueueDelayed = Self(rawValue: "workflow.task_reenqueue_delayed")
    public static let taskFinalized = Self(rawValue: "workflow.task_finalized")

    /// Every event the engine publishes.
    public static let all: [LifecycleEventName] = [
        .taskCreated, .taskStarted, .taskCompleted, .taskFailed, .taskCancelled, .taskResolvedManually,
        .taskRetryRequested, .taskRequestRejected, .taskRequestDeduplicated,
        .stepEnqueued, .stepStarted, .stepCompleted, .stepFailed, .stepRetryScheduled, .stepRetryRequested, .stepCancelled,
        .stepResolvedManually,
        .viableStepsDiscovered, .noViableSteps, .taskReenqueueRequested, .taskReenqueueDelayed, .taskFinalized,
    ]

    /// Whether this is a `step.*` event, whose payload carries the step keys.
    public var isStepEvent: Bool { rawValue.hasPrefix("step.") }
}
