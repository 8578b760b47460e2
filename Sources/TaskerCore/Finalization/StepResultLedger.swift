public import Foundation

/// Applies a batch of worker reports to the steps they are about, in memory, and says what to
/// write: the final row of every step that changed, the audit rows in order, the lifecycle
/// events, the steps whose completion may unblock children, and the tasks that may be done.
///
/// This is the finalizer's decision logic with no I/O, so a whole batch of results costs a
/// fixed number of statements. Reports are applied in order, so a `step.started` and the
/// `step.completed` of the same attempt in one batch give `enqueued → in_progress → complete`.
/// A report about another attempt, or about a step already past that state, is ignored
/// (redelivered and duplicate messages are harmless).
public struct StepResultLedger: Sendable {
    /// A step as locked in the database.
    public struct Step: Sendable, Hashable {
        public var id: UUID
        public var taskID: UUID
        public var name: String
        public var state: StepState
        public var attempts: Int
        public var retry: RetryPolicy
        public var timeoutSeconds: Double
        /// The sort key of the step's newest audit row.
        public var lastSortKey: Int
        /// Attempts made before an operator's last retry: attempt numbers keep counting (a late
        /// result of an earlier round can never pass for the new one) while the retry budget
        /// of ``retry`` restarts from here.
        public var attemptBase: Int

        public init(
            id: UUID, taskID: UUID, name: String, state: StepState, attempts: Int, retry: RetryPolicy,
            timeoutSeconds: Double, lastSortKey: Int, attemptBase: Int = 0
        ) {
            self.id = id
            self.taskID = taskID
            self.name = name
            self.state = state
            self.attempts = attempts
            self.retry = retry
            self.timeoutSeconds = timeoutSeconds
            self.lastSortKey = lastSortKey
            self.attemptBase = attemptBase
        }

        /// The attempt number after which the retry budget is spent (`max_attempts` on the wire).
        public var maxAttempts: Int { attemptBase + retry.maxAttempts }
    }

    /// The row a changed step ends the batch with.
    public struct StepRow: Sendable, Hashable {
        public var id: UUID
        public var state: StepState
        public var attempts: Int
        /// Set when the step completed.
        public var results: JSONValue?
        /// Set when an attempt failed.
        public var lastError: JSONValue?
        public var nextRetryAt: Date?
        public var deadline: Date?

        public init(
            id: UUID, state: StepState, attempts: Int, results: JSONValue? = nil, lastError: JSONValue? = nil,
            nextRetryAt: Date? = nil, deadline: Date? = nil
        ) {
            self.id = id
            self.state = state
            self.attempts = attempts
            self.results = results
            self.lastError = lastError
            self.nextRetryAt = nextRetryAt
            self.deadline = deadline
        }
    }

    /// One audit row.
    public struct Transition: Sendable, Hashable {
        public var stepID: UUID
        public var taskID: UUID
        public var from: StepState
        public var to: StepState
        /// The step's `lastSortKey` plus this row's position among the step's rows in the batch.
        public var sortKey: Int
        public var metadata: JSONValue

        public init(stepID: UUID, taskID: UUID, from: StepState, to: StepState, sortKey: Int, metadata: JSONValue = .object([:])) {
            self.stepID = stepID
            self.taskID = taskID
            self.from = from
            self.to = to
            self.sortKey = sortKey
            self.metadata = metadata
        }
    }

    /// What happened to one report.
    public enum Outcome: Sendable, Hashable {
        case applied
        case ignored(reason: String)
    }

    private var steps: [UUID: Step]
    private var rows: [UUID: StepRow] = [:]
    public private(set) var transitions: [Transition] = []
    public private(set) var events: [LifecycleEvent] = []
    public private(set) var outcomes: [Outcome] = []
    /// Steps completed in this batch, in order: their children may have become viable.
    public private(set) var completed: [UUID] = []
    /// Tasks a step of which finished (complete or error) in this batch: they may be done.
    public private(set) var tasksToCheck: Set<UUID> = []
    private let now: Date
    private let makeEventID: @Sendable () -> UUID

    public init(steps: [Step], now: Date, makeEventID: @escaping @Sendable () -> UUID = { UUID.random() }) {
        self.steps = Dictionary(steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.now = now
        self.makeEventID = makeEventID
    }

    /// The final rows of the steps that changed, in step-id order.
    public var changedRows: [StepRow] {
        rows.values.sorted { UUID.precedes($0.id, $1.id) }
    }

    /// Applies one report; its outcome is appended to ``outcomes``.
    public mutating func apply(_ message: StepResultMessage, using generator: inout some RandomNumberGenerator) {
        let outcome: Outcome
        if let step = steps[message.stepID] {
            if step.taskID == message.taskID {
                outcome = apply(message, to: step, using: &generator)
            } else {
                // The caller locks tasks by the ids reports name: a report naming the wrong
                // task must not change a step whose task is not locked.
                outcome = .ignored(reason: "step \(message.stepID) belongs to task \(step.taskID), not \(message.taskID)")
            }
        } else {
            outcome = .ignored(reason: "unknown step \(message.stepID)")
        }
        outcomes.append(outcome)
    }

    private mutating func apply(
        _ message: StepResultMessage, to step: Step, using generator: inout some RandomNumberGenerator
    ) -> Outcome {
        // Which attempt the step is on, and whether it has been marked as started.
        let startedThisAttempt = step.state == .inProgress && step.attempts == message.attempt
        let awaitingStart = step.state == .enqueued && step.attempts + 1 == message.attempt
        var meta: [String: JSONValue] = [
            "worker_id": .string(message.workerID), "attempt": .int(Int64(message.attempt)),
        ]
        switch message.kind {
        case .started:
            guard awaitingStart else { return stale(step, message) }
            meta["reported_at"] = .double(message.occurredAt.timeIntervalSince1970)
            start(step, message, metadata: meta)
            return .applied

        case .completed:
            guard awaitingStart || startedThisAttempt else { return stale(step, message) }
            if awaitingStart {
                var started = meta
                if let startedAt = message.startedAt { started["reported_at"] = .double(startedAt.timeIntervalSince1970) }
                start(step, message, metadata: started)
            }
            if let duration = message.durationMs { meta["duration_ms"] = .double(duration) }
            meta["reported_at"] = .double(message.occurredAt.timeIntervalSince1970)
            let results = message.results ?? .null
            move(step.id, to: .complete, metadata: .object(meta)) { row in
                row.results = results
                row.deadline = nil
                row.nextRetryAt = nil
            }
            events.append(event(
                .stepCompleted, step, attempt: message.attempt, durationMs: message.durationMs ?? 0, results: results))
            completed.append(step.id)
            tasksToCheck.insert(step.taskID)
            return .applied

        case .failed:
            guard awaitingStart || startedThisAttempt else { return stale(step, message) }
            if awaitingStart {
                var started = meta
                if let startedAt = message.startedAt { started["reported_at"] = .double(startedAt.timeIntervalSince1970) }
                start(step, message, metadata: started)
            }
            let kind = message.errorKind ?? .retryable
            let errorMessage = message.errorMessage ?? "unknown error"
            let decision = RetryDecision.decide(
                policy: step.retry, failedAttempt: message.attempt - step.attemptBase, kind: kind,
                requestedDelaySeconds: message.retryAfterSeconds, using: &generator)
            let error: JSONValue = [
                "message": .string(errorMessage), "kind": .string(kind.rawValue),
                "class": .string(message.errorClass ?? "Error"), "attempt": .int(Int64(message.attempt)),
            ]
            meta["error_kind"] = .string(kind.rawValue)
            meta["error_message"] = .string(errorMessage)
            if let duration = message.durationMs { meta["duration_ms"] = .double(duration) }
            meta["reported_at"] = .double(message.occurredAt.timeIntervalSince1970)
            var failed = event(.stepFailed, step, attempt: message.attempt, durationMs: message.durationMs)
            failed.errorMessage = errorMessage
            failed.errorKind = kind
            failed.errorClass = message.errorClass ?? "Error"
            events.append(failed)
            switch decision {
            case .retry(let delay):
                let at = now.addingTimeInterval(delay)
                meta["next_retry_at"] = .string(at.formatted(.iso8601))
                move(step.id, to: .waitingForRetry, metadata: .object(meta)) { row in
                    row.lastError = error
                    row.nextRetryAt = at
                    row.deadline = nil
                }
                var scheduled = event(.stepRetryScheduled, step, attempt: message.attempt)
                scheduled.details = ["next_retry_at": .double(at.timeIntervalSince1970), "delay_seconds": .double(delay)]
                events.append(scheduled)
            case .giveUp(let reason):
                meta["reason"] = .string(reason)
                move(step.id, to: .error, metadata: .object(meta)) { row in
                    row.lastError = error
                    row.deadline = nil
                    row.nextRetryAt = nil
                }
                tasksToCheck.insert(step.taskID)
            }
            return .applied

        default:
            return .ignored(reason: "unknown result kind '\(message.kind)'")
        }
    }

    /// `enqueued → in_progress`: counts the attempt and starts its deadline.
    private mutating func start(_ step: Step, _ message: StepResultMessage, metadata: [String: JSONValue]) {
        let deadline = now.addingTimeInterval(step.timeoutSeconds)
        move(step.id, to: .inProgress, metadata: .object(metadata)) { row in
            row.attempts += 1
            row.deadline = deadline
            row.nextRetryAt = nil
        }
        events.append(event(.stepStarted, step, attempt: message.attempt))
    }

    private mutating func move(_ id: UUID, to state: StepState, metadata: JSONValue, change: (inout StepRow) -> Void) {
        guard var step = steps[id] else { return }
        var row = rows[id] ?? StepRow(id: id, state: step.state, attempts: step.attempts)
        transitions.append(Transition(
            stepID: id, taskID: step.taskID, from: step.state, to: state, sortKey: step.lastSortKey + 1, metadata: metadata))
        row.state = state
        change(&row)
        step.state = state
        step.attempts = row.attempts
        step.lastSortKey += 1
        steps[id] = step
        rows[id] = row
    }

    private func stale(_ step: Step, _ message: StepResultMessage) -> Outcome {
        if step.state == .cancelled || step.state == .resolvedManually {
            return .ignored(reason: "\(message.kind) for attempt \(message.attempt) but an operator set the step \(step.state.rawValue)")
        }
        return .ignored(reason: "\(message.kind) for attempt \(message.attempt) but the step is \(step.state.rawValue) after \(step.attempts) attempt(s)")
    }

    private func event(
        _ name: LifecycleEventName, _ step: Step, attempt: Int, durationMs: Double? = nil, results: JSONValue? = nil
    ) -> LifecycleEvent {
        LifecycleEvent(
            event: name, eventID: makeEventID(), occurredAt: now, taskID: step.taskID, stepID: step.id, stepName: step.name,
            attempt: attempt, maxAttempts: step.maxAttempts, durationMs: durationMs, results: results)
    }
}
