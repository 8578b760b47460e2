internal import Foundation
internal import Hummingbird
internal import Logging
internal import TaskerCore
internal import TaskerPostgres
internal import TaskerServices

/// Tasks: submit (`tasks:write`), list, show, audit trail and one step (`tasks:read`).
struct TaskRoutes: APIRouteCollection {
    let dependencies: APIDependencies

    func register(on v1: RouterGroup<APIRequestContext>) {
        let tasks = v1.group("tasks")
        tasks.post { request, context in try await submit(request, context) }
        tasks.get { request, context in try await list(request, context) }
        tasks.get("{task_id}") { request, context in try await show(context) }
        tasks.get("{task_id}/audit") { request, context in try await audit(request, context) }
        tasks.get("{task_id}/steps/{step}") { request, context in try await step(context) }
    }

    /// `POST /v1/tasks`: the AMQP path's rules (``TaskIntake``): 201 with the new task's id, 200
    /// with the existing task's id for a duplicate identity, 422 with every error.
    func submit(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.require(.tasksWrite)
        let body = try await RequestReading.jsonObject(request, context: context)
        let wire = try await dependencies.broker.publisher()
        let intake = dependencies.intake
        let taskRequest: TaskRequest
        do {
            taskRequest = try TaskRequest.decode(.object(body))
        } catch {
            try await intake.announceRejection(errors: error.errors, request: nil, wire: wire)
            throw APIError.validation(error.errors, message: "the task request is not valid")
        }
        let plan: TaskPlan
        switch try await intake.plan(taskRequest, wire: wire) {
        case .success(let planned):
            plan = planned
        case .failure(let rejection):
            try await intake.announceRejection(errors: rejection.errors, request: taskRequest, wire: wire)
            throw APIError.validation(rejection.errors, message: "the task request is not valid")
        }
        guard let creation = try await intake.start([plan], wire: wire).first ?? nil else {
            let errors = ["template \(plan.template) is not registered"]
            try await intake.announceRejection(errors: errors, request: taskRequest, wire: wire)
            throw APIError.validation(errors, message: "the task request is not valid")
        }
        let id = creation.taskID.uuidString.lowercased()
        context.logger.debug("task submitted", metadata: [LogKeys.taskID: "\(id)", "tasker.request.duplicate": "\(creation.duplicate)"])
        return JSONResponse.make(
            ["task_id": .string(id), "status": .string(creation.duplicate ? "duplicate" : "created")],
            status: creation.duplicate ? .ok : .created, headers: [.location: "/v1/tasks/\(id)"])
    }

    static let listParameters: Set<String> = [
        "state", "namespace", "name", "created_after", "created_before", "updated_after", "updated_before",
        "identity_hash", "idempotency_key", "limit", "cursor",
    ]

    /// `GET /v1/tasks`: newest first, filtered, one page at a time (`next_cursor`).
    func list(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.require(.tasksRead)
        let query = try QueryReader(request, accepted: Self.listParameters)
        var filter = TaskListFilter(
            namespace: try query.string("namespace"), name: try query.string("name"),
            createdAfter: try query.time("created_after"), createdBefore: try query.time("created_before"),
            updatedAfter: try query.time("updated_after"), updatedBefore: try query.time("updated_before"))
        if let states = query.list("state") {
            do { filter.states = try TaskState.named(states) } catch { throw APIError.badRequest(error.description) }
        }
        var hashes = query.list("identity_hash")
        if let key = try query.string("idempotency_key") {
            hashes = (hashes ?? []) + (try await identityHashes(idempotencyKey: key, namespace: filter.namespace, name: filter.name))
        }
        filter.identityHashes = hashes
        let limit = try query.integer("limit", in: 1...200, default: 50)
        let cursor = try query.string("cursor").map { token throws(APIError) in
            guard let cursor = KeysetCursor(token: token) else { throw APIError.badRequest("'cursor' is not a cursor this API returned") }
            return cursor
        }
        let page = try await dependencies.tasks.list(filter, limit: limit, after: cursor)
        return JSONResponse.make(TaskPresenter.list(page))
    }

    /// The identity hashes an idempotency key has under each registered version of the named
    /// template (the hash covers the version; see ``TaskIdentity``).
    private func identityHashes(idempotencyKey: String, namespace: String?, name: String?) async throws -> [String] {
        guard let namespace, let name else {
            throw APIError.badRequest("filtering by 'idempotency_key' needs 'namespace' and 'name' (the key is scoped to a template)")
        }
        return IdempotencyKeyLookup.hashes(idempotencyKey, templates: try await dependencies.templates.templates(namespace: namespace, name: name))
    }

    /// `GET /v1/tasks/{task_id}`: the task with its context and steps (results, last errors).
    func show(_ context: APIRequestContext) async throws -> Response {
        _ = try context.require(.tasksRead)
        let id = try RequestReading.uuid("task_id", context, what: "task")
        guard let view = try await dependencies.tasks.task(id) else { throw APIError.notFound("no task \(id.uuidString.lowercased())") }
        return JSONResponse.make(TaskPresenter.detail(view))
    }

    /// `GET /v1/tasks/{task_id}/audit`: the task's and its steps' transitions, oldest first.
    func audit(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.require(.tasksRead)
        let id = try RequestReading.uuid("task_id", context, what: "task")
        let query = try QueryReader(request, accepted: ["limit", "cursor"])
        let limit = try query.integer("limit", in: 1...5_000, default: 500)
        let cursor = try query.string("cursor").map { token throws(APIError) in
            guard let cursor = KeysetCursor(token: token), Int64(cursor.id) != nil else {
                throw APIError.badRequest("'cursor' is not a cursor this API returned")
            }
            return cursor
        }
        guard let page = try await dependencies.tasks.auditTrail(task: id, limit: limit, after: cursor) else {
            throw APIError.notFound("no task \(id.uuidString.lowercased())")
        }
        return JSONResponse.make([
            "task_id": .string(id.uuidString.lowercased()), "entries": .array(page.items.map(TaskPresenter.auditEntry)),
            "next_cursor": page.next.map { .string($0.token) } ?? .null,
        ])
    }

    /// `GET /v1/tasks/{task_id}/steps/{step}` (a step id or name): the step, its transitions and attempts.
    func step(_ context: APIRequestContext) async throws -> Response {
        _ = try context.require(.tasksRead)
        let id = try RequestReading.uuid("task_id", context, what: "task")
        let reference = try RequestReading.text("step", context)
        guard let found = try await dependencies.tasks.step(task: id, reference: reference) else {
            throw APIError.notFound("task \(id.uuidString.lowercased()) has no step \(reference)")
        }
        return JSONResponse.make(TaskPresenter.stepDetail(found.step, transitions: found.transitions))
    }
}
