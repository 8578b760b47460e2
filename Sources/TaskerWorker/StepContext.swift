public import Foundation
public import Logging
public import TaskerCore

/// Everything a ``StepHandler`` receives about the step attempt it runs.
///
/// Workers have no database: the task context, the parents' results and the handler
/// configuration all come from the ``StepDispatch`` message.
public struct StepContext: Sendable {
    /// The task the step belongs to.
    public var taskID: UUID
    /// The step being run.
    public var stepID: UUID
    /// The step's name in its template.
    public var stepName: String
    /// The attempt being run, counting from 1.
    public var attempt: Int
    /// How many attempts the step may have in total.
    public var maxAttempts: Int
    /// The task's context (the JSON object of the task request).
    public var context: JSONValue
    /// The results of the step's parents, by parent step name.
    public var parentResults: [String: JSONValue]
    /// The step template's `handler_config`, verbatim.
    public var config: JSONValue
    /// When the attempt is due to finish (dispatch time + timeout).
    public var deadline: Date
    /// A logger carrying `tasker.task.id`, `tasker.step.id`, `tasker.step.name` and
    /// `tasker.step.attempt`. The metadata is attached when the logger is read (swift-log's
    /// stream handler renders its metadata on every change, so a handler that does not log pays
    /// nothing): read it once into a local to log several lines.
    public var logger: Logger {
        get { baseLogger.withStepMetadata(taskID: taskID, stepID: stepID, stepName: stepName, attempt: attempt) }
        set { baseLogger = newValue }
    }
    private var baseLogger: Logger

    /// Whether this is the last attempt the step is allowed.
    public var isLastAttempt: Bool { attempt >= maxAttempts }

    /// The time left until ``deadline`` (zero once it passed). The worker cancels the handler
    /// at the deadline; pass this to calls that take their own timeout.
    public var timeRemaining: Duration {
        let seconds = deadline.timeIntervalSinceNow
        return seconds > 0 ? .milliseconds(Int64(seconds * 1_000)) : .zero
    }

    /// Creates a context (the worker builds one from each dispatch; tests may build their own).
    public init(
        taskID: UUID,
        stepID: UUID,
        stepName: String,
        attempt: Int,
        maxAttempts: Int,
        context: JSONValue,
        parentResults: [String: JSONValue],
        config: JSONValue,
        deadline: Date,
        logger: Logger
    ) {
        self.taskID = taskID
        self.stepID = stepID
        self.stepName = stepName
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.context = context
        self.parentResults = parentResults
        self.config = config
        self.deadline = deadline
        self.baseLogger = logger
    }

    /// The context for one dispatch.
    public init(dispatch: StepDispatch, logger: Logger) {
        self.init(
            taskID: dispatch.taskID,
            stepID: dispatch.stepID,
            stepName: dispatch.stepName,
            attempt: dispatch.attempt,
            maxAttempts: dispatch.maxAttempts,
            context: dispatch.context,
            parentResults: dispatch.parentResults,
            config: dispatch.handlerConfig,
            deadline: dispatch.deadline,
            logger: logger
        )
    }
}
