internal import Foundation
internal import Hummingbird
internal import TaskerCore

/// The operator actions: `POST /v1/tasks/{task_id}/cancel|retry|resolve` and
/// `POST /v1/tasks/{task_id}/steps/{step}/retry|resolve`, scope `tasks:operate`.
///
/// Each takes `{"reason": "…"}` (required: it goes into the audit trail with the caller's
/// name); resolving a step also takes `"results"`, the step's results as the operator supplies
/// them. The work is done by the ``TaskActionPerforming`` the server was given.
struct TaskActionRoutes: APIRouteCollection {
    let actions: (any TaskActionPerforming)?

    func register(on v1: RouterGroup<APIRequestContext>) {
        let tasks = v1.group("tasks")
        tasks.post("{task_id}/cancel") { request, context in try await perform(request, context) { _ in .cancelTask } }
        tasks.post("{task_id}/retry") { request, context in try await perform(request, context) { _ in .retryTask } }
        tasks.post("{task_id}/resolve") { request, context in try await perform(request, context) { _ in .resolveTask } }
        tasks.post("{task_id}/steps/{step}/retry") { request, context in
            try await perform(request, context) { _ in .retryStep(step: try RequestReading.text("step", context)) }
        }
        tasks.post("{task_id}/steps/{step}/resolve", use: { request, context in
            try await perform(request, context, extraFields: ["results"]) { body in
                guard let results = body["results"] else { throw APIError.validation(["'results' is required"]) }
                return .resolveStep(step: try RequestReading.text("step", context), results: results)
            }
        })
    }

    /// Authorizes, reads `{"reason": …}`, hands the action to the performer and answers its result.
    private func perform(
        _ request: Request, _ context: APIRequestContext, extraFields: Set<String> = [],
        _ action: ([String: JSONValue]) throws -> TaskActionRequest.Action
    ) async throws -> Response {
        let principal = try context.require(.tasksOperate)
        let taskID = try RequestReading.uuid("task_id", context, what: "task")
        let body = try await RequestReading.jsonObject(request, context: context)
        var errors: [String] = []
        for key in body.keys.sorted() where key != "reason" && !extraFields.contains(key) { errors.append("unknown field '\(key)'") }
        let reason = body["reason"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if reason.isEmpty { errors.append("'reason' is required: a non-empty string saying why") }
        if reason.count > 2_000 { errors.append("'reason' is at most 2000 characters") }
        let chosen: TaskActionRequest.Action
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
        let result = try await actions.perform(TaskActionRequest(taskID: taskID, action: chosen, actor: principal.name, reason: reason))
        let details: JSONValue = ["task_state": result.taskState.map { .string($0.rawValue) } ?? .null]
        switch result.status {
        case .applied, .alreadyApplied:
            return JSONResponse.make([
                "status": .string(result.status.rawValue), "message": .string(result.message),
                "task_id": .string(taskID.uuidString.lowercased()), "task_state": details["task_state"] ?? .null,
                "action_id": result.actionID.map { .string($0.uuidString.lowercased()) } ?? .null,
                "steps": .array(result.steps.map { change in
                    [
                        "step_id": .string(change.stepID.uuidString.lowercased()), "name": .string(change.stepName),
                        "from_state": .string(change.from.rawValue), "to_state": .string(change.to.rawValue),
                    ]
                }),
            ])
        case .refused: throw APIError.conflict(result.message, details: details)
        case .notFound: throw APIError.notFound(result.message)
        case .invalid: throw APIError.validation([result.message])
        }
    }
}
