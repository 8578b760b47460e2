internal import Foundation
internal import Logging
internal import PostgresNIO
internal import TaskerCore

extension PostgresStore {
    // MARK: Shared pieces

    /// Moves `stepIDs` to `enqueued` (those still pending or due for retry) and builds their dispatches.
    /// The caller holds the steps' row locks (it created, updated or selected them for update).
    func enqueue(_ stepIDs: [UUID], now: Date, on connection: PostgresConnection) async throws -> [OutboundMessage] {
        guard !stepIDs.isEmpty else { return [] }
        let sources = Set(StepState.machine.sources(of: .enqueued))
        let data = try await dispatchData(stepIDs, on: connection).filter { sources.contains($0.state) }
        // The deadline of an enqueued attempt allows for its whole timeout after dispatch.
        try await Self.writeSteps(
            data.map { StepResultLedger.StepRow(id: $0.stepID, state: .enqueued, attempts: $0.attempts, deadline: now.addingTimeInterval($0.timeoutSeconds)) },
            transitions: data.map { StepResultLedger.Transition(stepID: $0.stepID, taskID: $0.taskID, from: $0.state, to: .enqueued, sortKey: 1) },
            on: connection, logger: logger)
        var messages: [OutboundMessage] = []
        for row in data {
            messages.append(try OutboundMessage.dispatch(row.dispatch(now: now), topology: topology, messageID: clock.makeID()))
            guard events.publishes(.stepEnqueued) else { continue }
            let enqueued = LifecycleEvent(
                event: .stepEnqueued, eventID: clock.makeID(), occurredAt: now, taskID: row.taskID, stepID: row.stepID,
                stepName: row.stepName, attempt: row.attempts + 1, maxAttempts: row.maxAttempts)
            messages.append(try OutboundMessage.event(enqueued, topology: topology))
        }
        return messages
    }

    struct DispatchRow {
        var stepID: UUID
        var stepName: String
        var state: StepState
        var handler: String
        var attempts: Int
        var maxAttempts: Int
        var timeoutSeconds: Double
        var handlerConfig: JSONValue
        var taskID: UUID
        var namespace: String
        var templateName: String
        var templateVersion: String
        var context: JSONValue
        var parentResults: [String: JSONValue]

        /// The dispatch for the step's next attempt, sent at `now`.
        func dispatch(now: Date) -> StepDispatch {
            StepDispatch(
                taskID: taskID, stepID: stepID, stepName: stepName, handler: handler, namespace: namespace,
                templateName: templateName, templateVersion: templateVersion, attempt: attempts + 1, maxAttempts: maxAttempts,
                context: context, parentResults: parentResults, handlerConfig: handlerConfig, timeoutSeconds: timeoutSeconds,
                deadline: now.addingTimeInterval(timeoutSeconds), dispatchedAt: now)
        }
    }

    /// Everything a dispatch carries, for several steps in one query.
    func dispatchData(_ stepIDs: [UUID], on connection: PostgresConnection) async throws -> [DispatchRow] {
        let rows = try await connection.query(
            """
            SELECT s.id, s.name, s.state, s.handler, s.attempts, s.max_attempts, s.timeout_seconds, s.handler_config::text,
                   t.id, t.namespace, t.name, t.version, t.context::text,
                   COALESCE((SELECT jsonb_object_agg(p.name, COALESCE(p.results, 'null'::jsonb))
                             FROM step_edges e JOIN steps p ON p.id = e.parent_step_id
                             WHERE e.child_step_id = s.id), '{}'::jsonb)::text
            FROM steps s JOIN tasks t ON t.id = s.task_id
            WHERE s.id = ANY(\(stepIDs))
            ORDER BY s.position
            """,
            logger: logger
        )
        var result: [DispatchRow] = []
        var contexts: [UUID: JSONValue] = [:]
        for try await row in rows.decode((UUID, String, String, String, Int, Int, Double, String, UUID, String, String, String, String, String).self) {
            let context = try contexts[row.8] ?? JSONValue.parse(row.12)
            contexts[row.8] = context
            result.append(DispatchRow(
                stepID: row.0, stepName: row.1, state: try Self.decodeStepState(row.2), handler: row.3, attempts: row.4,
                maxAttempts: row.5, timeoutSeconds: row.6, handlerConfig: try JSONValue.parse(row.7), taskID: row.8,
                namespace: row.9, templateName: row.10, templateVersion: row.11, context: context,
                parentResults: try JSONValue.parse(row.13).objectValue ?? [:]))
        }
        return result
    }

    /// A task-level lifecycle event as an outbound message (step events are built where the
    /// step's details are at hand: ``StepResultLedger`` and ``enqueue(_:now:on:)``).
    func event(_ name: LifecycleEventName, task: UUID, now: Date, details: [String: JSONValue]? = nil) throws -> OutboundMessage {
        try OutboundMessage.event(
            LifecycleEvent(event: name, eventID: clock.makeID(), occurredAt: now, taskID: task, details: details), topology: topology)
    }
}
