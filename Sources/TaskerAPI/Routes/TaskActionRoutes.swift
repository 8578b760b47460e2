internal import Foundation
internal import Hummingbird
internal import TaskerCore

/// The operator actions: `POST /v1/tasks/{task_id}/cancel|retry|resolve`,
/// `POST /v1/tasks/{task_id}/steps/{step}/retry|resolve` and, for a selection of tasks,
/// `POST /v1/tasks/bulk` (cancel or retry); scope `tasks:operate`.
///
/// Each takes `{"reason": "…"}` (required: it goes into the audit trail with the caller's
/// name); resolving a step also takes `"results"`, the step's results as the operator supplies
/// them. The work is done by the ``TaskActionPerforming`` the server was given.
struct TaskActionRoutes: APIRouteCollection {
    let actions: (any TaskActionPerforming)?

    func register(on v1: RouterGroup<APIRequestContext>) {
        let tasks = v1.group("tasks")
        tasks.post("bulk") { request, context in try await bulk(request, context) }
        tasks.post("{task_id}/cancel") { request, context in try await perform(request, context) { _ in .cancelTask } }
        tasks.post("{task_id}/retry") { request, context in try await perform(request, context) { _ in .retryTask } }
        tasks.post("{task_id}/resolve") { request, context in try await perform(request, context) { _ in .resolveTask } }
        tasks.post("{task_id}/steps/{step}/retry") { request, context in
            try await perform(request, context) { _ in .retryStep(.init(try RequestReading.text("step", context))) }
        }
        tasks.post("{task_id}/steps/{step}/resolve", use: { request, context in
            try await perform(request, context, extraFields: ["results"]) { body in
                guard let results = body["results"] else { throw APIError.validation(["'results' is required"]) }
                return .resolveStep(.init(try RequestReading.text("step", context)), results: results)
            }
        })
    }

    /// Authorizes, reads `{"reason": …}`, hands the action to the performer and answers its result.
    private func perform(
        _ request: Request, _ context: APIRequestContext, extraFields: Set<String> = [],
        _ action: ([String: JSONValue]) throws -> OperatorCommand.Action
    ) async throws -> Response {
        let principal = try context.require(.tasksOperate)
        let taskID = try RequestReading.uuid("task_id", context, what: "task")
        let body = try await RequestReading.jsonObject(request, context: context)
        var errors: [String] = []
        for key in body.keys.sorted() where key != "reason" && !extraFields.contains(key) { errors.append("unknown field '\(key)'") }
        let reason = body["reason"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if reason.isEmpty { errors.append("'reason' is required: a non-empty string saying why") }
        if reason.count > 2_000 { errors.append("'reason' is at most 2000 characters") }
        let chosen: OperatorCommand.Action
        do {
            chosen = try action(body)
        } catch let error as APIError {
            errors += error.details["errors"]?.arrayValue?.compactMap(\.stringValue) ?? [error.message]
            throw APIError.validation(errors)
        }
        guard errors.isEmpty else { throw APIError.validation(errors) }
        guard let actions else {
            throw APIError(.notImplemented, code: "not_implemented", message: "operator actions are not available on this server yet")
        }
        let result = try await actions.perform(OperatorCommand(taskID: taskID, action: chosen, actor: principal.name, reason: reason))
        let details: JSONValue = ["task_state": result.taskState.map { .string($0.rawValue) } ?? .null]
        switch result.status {
        case .applied, .alreadyApplied:
            return JSONResponse.make(result.json)
        case .refused: throw APIError.conflict(result.message, details: details)
        case .notFound: throw APIError.notFound(result.message)
        case .invalid: throw APIError.validation([result.message])
        }
    }

    /// `POST /v1/tasks/bulk`: `{"action": "cancel"|"retry", "task_ids": […], "reason": "…"}`;
    /// 200 with one result per task (`results`, in the order given), whatever each one's status.
    func bulk(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let principal = try context.require(.tasksOperate)
        let body = try await RequestReading.jsonObject(request, context: context)
        var errors: [String] = []
        for key in body.keys.sorted() where !["action", "task_ids", "reason"].contains(key) { errors.append("unknown field '\(key)'") }
        let kind = body["action"]?.stringValue.flatMap(BulkTaskAction.Kind.init(rawValue:))
        if kind == nil { errors.append("'action' is required: one of \(BulkTaskAction.Kind.allCases.map(\.rawValue).joined(separator: ", "))") }
        var taskIDs: [UUID] = []
        if let list = body["task_ids"]?.arrayValue {
            for (index, element) in list.enumerated() {
                if let id = element.stringValue.flatMap(UUID.init(uuidString:)) { taskIDs.append(id) } else { errors.append("'task_ids[\(index)]' is not a task id (a UUID)") }
            }
            errors += BulkTaskAction.problems(count: list.count)
        } else {
            errors.append("'task_ids' is required: a list of task ids")
        }
        let reason = body["reason"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if reason.isEmpty { errors.append("'reason' is required: a non-empty string saying why") }
        if reason.count > 2_000 { errors.append("'reason' is at most 2000 characters") }
        guard errors.isEmpty, let kind else { throw APIError.validation(errors) }
        guard let actions else {
            throw APIError(.notImplemented, code: "not_implemented", message: "operator actions are not available on this server yet")
        }
        let outcomes = try await BulkTaskAction(kind: kind, taskIDs: taskIDs, actor: principal.name, reason: reason).perform(with: actions)
        return JSONResponse.make(["action": .string(kind.rawValue), "results": .array(outcomes.map(\.json))])
    }
}
