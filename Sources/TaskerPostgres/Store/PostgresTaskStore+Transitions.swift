public import Foundation
public import PostgresNIO
public import TaskerCore

extension PostgresTaskStore {
    /// Moves a task to `state`, appending one audit row, with a compare-and-set on the current state.
    ///
    /// A transition to the current state is an idempotent no-op (`.unchanged`); one the state machine
    /// does not allow throws ``StoreError`` `.transitionRefused` and writes nothing.
    @discardableResult
    public func transitionTask(_ id: UUID, to state: TaskState, metadata: JSONValue = .object([:])) async throws -> TransitionOutcome {
        try await inTransaction { connection in
            try await Self.transitionTask(id, to: state, metadata: metadata, on: connection, logger: logger)
        }
    }

    /// ``transitionTask(_:to:metadata:)`` inside a caller's transaction.
    public static func transitionTask(
        _ id: UUID,
        to state: TaskState,
        metadata: JSONValue = .object([:]),
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> TransitionOutcome {
        // The row lock serialises concurrent transitions of one task; the next statement runs
        // with a fresh snapshot that sees whatever the previous holder committed.
        guard let raw = try await connection.query("SELECT state FROM tasks WHERE id = \(id) FOR UPDATE", logger: logger)
            .collectFirst(String.self)
        else { throw StoreError(.notFound, "task \(id) does not exist") }
        let current = try decodeState(raw)
        do {
            if try TaskState.machine.decide(from: current, to: state) == .noChange { return .unchanged }
        } catch {
            throw StoreError(.transitionRefused, error.description)
        }
        let finished = state.isFinished
        let sortKey = try await connection.query(
            """
            WITH cleared AS (
                UPDATE task_transitions SET most_recent = false WHERE task_id = \(id) AND most_recent RETURNING sort_key
            ), updated AS (
                UPDATE tasks SET state = \(state.rawValue), updated_at = now(),
                       completed_at = CASE WHEN \(finished) THEN now() ELSE NULL END
                WHERE id = \(id)
            )
            INSERT INTO task_transitions (task_id, from_state, to_state, sort_key, most_recent, metadata)
            SELECT \(id), \(current.rawValue), \(state.rawValue),
                   COALESCE((SELECT max(sort_key) FROM cleared), (SELECT max(sort_key) FROM task_transitions WHERE task_id = \(id)), 0) + 1,
                   true, \(metadata.canonicalString)::jsonb
            RETURNING sort_key
            """,
            logger: logger
        ).collectFirst(Int.self)
        logger.debug("task transition", metadata: [LogKeys.taskID: "\(id)", "tasker.transition": "\(current.rawValue) -> \(state.rawValue)"])
        return .applied(from: current.rawValue, sortKey: sortKey ?? 0)
    }

    /// Moves a step to `state` with a compare-and-set on its current state, writing `changes` and
    /// appending one audit row in the same transaction.
    ///
    /// Of several concurrent callers asking for the same transition exactly one gets `.applied`;
    /// the others see `.unchanged`. A transition the state machine does not allow throws
    /// ``StoreError`` `.transitionRefused` and leaves no row behind.
    @discardableResult
    public func transitionStep(
        _ id: UUID,
        to state: StepState,
        changes: StepChanges = .init(),
        metadata: JSONValue = .object([:])
    ) async throws -> TransitionOutcome {
        try await inTransaction { connection in
            try await Self.transitionStep(id, to: state, changes: changes, metadata: metadata, on: connection, logger: logger)
        }
    }

    /// ``transitionStep(_:to:changes:metadata:)`` inside a caller's transaction.
    public static func transitionStep(
        _ id: UUID,
        to state: StepState,
        changes: StepChanges = .init(),
        metadata: JSONValue = .object([:]),
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> TransitionOutcome {
        guard let raw = try await connection.query("SELECT state FROM steps WHERE id = \(id) FOR UPDATE", logger: logger)
            .collectFirst(String.self)
        else { throw StoreError(.notFound, "step \(id) does not exist") }
        let current = try decodeStepState(raw)
        do {
            if try StepState.machine.decide(from: current, to: state) == .noChange { return .unchanged }
        } catch {
            throw StoreError(.transitionRefused, error.description)
        }
        let retryAt = state == .waitingForRetry ? changes.nextRetryAt : nil
        let sortKey = try await connection.query(
            """
            WITH cleared AS (
                UPDATE step_transitions SET most_recent = false WHERE step_id = \(id) AND most_recent RETURNING sort_key
            ), updated AS (
                UPDATE steps SET state = \(state.rawValue), updated_at = now(),
                       attempts = CASE WHEN \(changes.resetAttempts) THEN 0 ELSE attempts + \(changes.attemptsDelta) END,
                       inputs = COALESCE(\(changes.inputs?.canonicalString)::jsonb, inputs),
                       results = COALESCE(\(changes.results?.canonicalString)::jsonb, results),
                       last_error = COALESCE(\(changes.lastError?.canonicalString)::jsonb, last_error),
                       next_retry_at = \(retryAt)
                WHERE id = \(id)
                RETURNING task_id
            )
            INSERT INTO step_transitions (step_id, task_id, from_state, to_state, sort_key, most_recent, metadata)
            SELECT \(id), updated.task_id, \(current.rawValue), \(state.rawValue),
                   COALESCE((SELECT max(sort_key) FROM cleared), (SELECT max(sort_key) FROM step_transitions WHERE step_id = \(id)), 0) + 1,
                   true, \(metadata.canonicalString)::jsonb
            FROM updated
            RETURNING sort_key
            """,
            logger: logger
        ).collectFirst(Int.self)
        logger.debug("step transition", metadata: [LogKeys.stepID: "\(id)", "tasker.transition": "\(current.rawValue) -> \(state.rawValue)"])
        return .applied(from: current.rawValue, sortKey: sortKey ?? 0)
    }
}
