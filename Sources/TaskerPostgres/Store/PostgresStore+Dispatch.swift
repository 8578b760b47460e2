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
        var result: [DispatchRow] = []
        for try await document in try await connection.execute(DispatchDataStatement(steps: stepIDs), logger: logger) {
            result.append(try DispatchRow(document: document))
        }
        return result
    }
}

extension PostgresStore.DispatchRow {
    /// The first dispatch of a root step of a task just stored from `plan` (no parents, no
    /// attempts yet): the plan holds everything the database would return.
    init(root step: TaskPlan.Step, of plan: TaskPlan) {
        self.init(
            stepID: step.id, stepName: step.name, state: .pending, handler: step.handler, attempts: 0,
            maxAttempts: step.retry.maxAttempts, timeoutSeconds: step.timeoutSeconds, handlerConfig: step.handlerConfig,
            taskID: plan.taskID, namespace: plan.template.namespace, templateName: plan.template.name,
            templateVersion: plan.template.version.description, context: plan.context, parentResults: [:], parentNames: [:])
    }

    /// Decodes a document of `tasker_dispatch_documents` (migrations 0014, 0021).
    init(document text: String) throws {
        let document = try JSONValue.parse(text)
        func field<Value>(_ key: String, _ value: (JSONValue) -> Value?) throws -> Value {
            guard let member = document[key], let decoded = value(member) else {
                throw StoreError(.notFound, "dispatch data without a valid \(key)")
            }
            return decoded
        }
        let uuid = { (value: JSONValue) in value.stringValue.flatMap(UUID.init(hexString:)) }
        var parentResults: [String: JSONValue] = [:]
        var parentNames: [UUID: String] = [:]
        for parent in try field("parents", \.arrayValue) {
            guard let members = parent.arrayValue, members.count == 3, let id = uuid(members[0]), let name = members[1].stringValue else {
                throw StoreError(.notFound, "dispatch data with a malformed parent")
            }
            parentResults[name] = members[2]
            parentNames[id] = name
        }
        self.init(
            stepID: try field("id", uuid), stepName: try field("name", \.stringValue),
            state: try PostgresStore.decodeStepState(try field("state", \.stringValue)), handler: try field("handler", \.stringValue),
            attempts: Int(try field("attempts", \.intValue)), maxAttempts: Int(try field("max_attempts", \.intValue)),
            timeoutSeconds: try field("timeout_seconds", \.doubleValue), handlerConfig: document["handler_config"] ?? .null,
            taskID: try field("task_id", uuid), namespace: try field("namespace", \.stringValue),
            templateName: try field("template", \.stringValue), templateVersion: try field("version", \.stringValue),
            context: document["context"] ?? .null, parentResults: parentResults, parentNames: parentNames)
    }
}

/// What the dispatches of some steps carry (the view `tasker_dispatch_documents`, migration
/// 0021), one document per step, in template order.
struct DispatchDataStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT d.document FROM tasker_dispatch_documents d WHERE d.id = ANY($1::uuid[])
        ORDER BY d.position
        """
    typealias Row = String

    var steps: [UUID]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(steps)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
}
