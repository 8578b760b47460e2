public import Foundation
public import Logging

/// What a ``TypedStepHandler`` receives: its decoded inputs and the attempt's facts.
///
/// `context`, `parents` and `config` are the handler's ``TypedStepHandler/Context``,
/// ``TypedStepHandler/Parents`` and ``TypedStepHandler/Config``; ``raw`` is the untyped
/// ``StepContext`` (ids, raw JSON) for anything else.
public struct TypedStep<Context: Sendable, Parents: Sendable, Config: Sendable>: Sendable {
    /// The task context.
    public var context: Context
    /// The parents' results, keyed by parent step name.
    public var parents: Parents
    /// The step template's `handler_config`.
    public var config: Config
    /// The untyped step: ids, raw JSON inputs, attempt, deadline and logger.
    public var raw: StepContext

    /// Creates the input of one attempt (the worker does; tests may too).
    public init(context: Context, parents: Parents, config: Config, step: StepContext) {
        self.context = context
        self.parents = parents
        self.config = config
        self.raw = step
    }

    /// The attempt being run, counting from 1.
    public var attempt: Int { raw.attempt }
    /// How many attempts the step may have in total.
    public var maxAttempts: Int { raw.maxAttempts }
    /// Whether this is the last attempt the step is allowed.
    public var isLastAttempt: Bool { raw.isLastAttempt }
    /// When the attempt is due to finish; the worker cancels the handler then.
    public var deadline: Date { raw.deadline }
    /// The time left until ``deadline`` (zero once it passed).
    public var timeRemaining: Duration { raw.timeRemaining }
    /// A logger carrying the task and step ids.
    public var logger: Logger { raw.logger }
    /// The task the step belongs to.
    public var taskID: UUID { raw.taskID }
    /// The step being run.
    public var stepID: UUID { raw.stepID }
    /// The step's name in its template.
    public var stepName: String { raw.stepName }
}
