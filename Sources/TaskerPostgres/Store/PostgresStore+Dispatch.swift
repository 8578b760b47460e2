internal import Foundation
internal import Logging
internal import PostgresNIO
internal import TaskerCore

extension PostgresStore {
    struct DispatchRow {
        var stepID: UUID
        var stepName: String
        var state: StepState
        var handler: String
        var attempts: Int
        /// The last attempt the budget allows (`max_attempts + attempt_base`).
        var maxAttempts: Int
        var timeoutSeconds: Double
        var handlerConfig: JSONValue
        var taskID: UUID
        var namespace: String
        var templateName: String
        var templateVersion: String
        var context: JSONValue
        var parentResults: [String: JSONValue]
        /// The parents' names by id, to fill in results decided in the same batch (not yet written).
        var parentNames: [UUID: String]

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
        guard !stepIDs.isEmpty else { return [] }
        let rows = try await connection.execute(DispatchDataStatement(steps: stepIDs), logger: logger)
        var result: [DispatchRow] = []
        var contexts: [UUID: JSONValue] = [:]
        for try await row in rows {
            let context = try contexts[row.8] ?? JSONValue.parse(row.12)
            contexts[row.8] = context
            result.append(DispatchRow(
                stepID: row.0, stepName: row.1, state: try Self.decodeStepState(row.2), handler: row.3, attempts: row.4,
                maxAttempts: row.5, timeoutSeconds: row.6, handlerConfig: try JSONValue.parse(row.7), taskID: row.8,
                namespace: row.9, templateName: row.10, templateVersion: row.11, context: context,
                parentResults: try JSONValue.parse(row.13).objectValue ?? [:],
                parentNames: Dictionary(uniqueKeysWithValues: (try JSONValue.parse(row.14).objectValue ?? [:]).compactMap { id, name in
                    UUID(uuidString: id).flatMap { id in name.stringValue.map { (id, $0) } }
                })))
        }
        return result
    }
}

/// What the dispatches of some steps carry, one row per step in template order: the step, its
/// task (context, template) and its parents' results by name, and the parents' names by id.
struct DispatchDataStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT s.id, s.name, s.state, s.handler, s.attempts, s.max_attempts + s.attempt_base, s.timeout_seconds, s.handler_config::text,
               t.id, t.namespace, t.name, t.version, t.context::text,
               COALESCE((SELECT jsonb_object_agg(p.name, COALESCE(p.results, 'null'::jsonb))
                         FROM step_edges e JOIN steps p ON p.id = e.parent_step_id
                         WHERE e.child_step_id = s.id), '{}'::jsonb)::text,
               COALESCE((SELECT jsonb_object_agg(p.id::text, p.name)
                         FROM step_edges e JOIN steps p ON p.id = e.parent_step_id
                         WHERE e.child_step_id = s.id), '{}'::jsonb)::text
        FROM steps s JOIN tasks t ON t.id = s.task_id
        WHERE s.id = ANY($1::uuid[])
        ORDER BY s.position
        """
    typealias Row = (UUID, String, String, String, Int, Int, Double, String, UUID, String, String, String, String, String, String)

    var steps: [UUID]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(steps)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
