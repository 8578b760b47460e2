internal import Foundation
internal import Hummingbird
internal import TaskerCore
internal import TaskerPostgres

/// The dashboard's pages (`GET`): overview, tasks, one task (with its live JSON), templates
/// (list and one template).
/// Without a live session they redirect to the sign-in page; the read scopes are checked as in
/// the API (`tasks:read`, `templates:read`).
struct DashboardReadRoutes: Sendable {
    let dependencies: APIDependencies
    let sessions: DashboardSessions
    let cookies: DashboardCookies

    func register(on ui: RouterGroup<APIRequestContext>) {
        ui.get("overview") { request, context in
            try await signedIn(request, .tasksRead) { try await DashboardOverview(dependencies: dependencies).render($0, logger: context.logger) }
        }
        ui.get("tasks") { request, _ in try await signedIn(request, .tasksRead) { try await tasks(request, $0) } }
        ui.get("tasks/{task_id}") { request, context in try await signedIn(request, .tasksRead) { try await task(request, context, $0) } }
        ui.get("tasks/{task_id}/live") { request, context in
            guard let session = sessions.current(request), session.principal.has(.tasksRead) else {
                return JSONResponse.make(["error": "sign in again"], status: .unauthorized)
            }
            return try await live(context, session)
        }
        let templates = DashboardTemplates(dependencies: dependencies)
        ui.get("templates") { request, _ in try await signedIn(request, .templatesRead) { try await templates.list($0) } }
        ui.get("templates/{namespace}/{name}") { request, context in
            try await signedIn(request, .templatesRead) { try await templates.detail(request, context, $0) }
        }
    }

    private func signedIn(_ request: Request, _ scope: APIScope, _ page: (DashboardSession) async throws -> Response) async throws -> Response {
        guard let session = sessions.current(request) else { return Response(status: .seeOther, headers: [.location: "/ui/login"]) }
        guard session.principal.has(scope) else {
            return DashboardPage.message(.forbidden, title: "Not allowed", "Your key lacks the scope \(scope.rawValue).", session: session)
        }
        return try await page(session)
    }

    func tasks(_ request: Request, _ session: DashboardSession) async throws -> Response {
        let query = request.uri.queryParameters
        let value = { (name: String) -> String? in query[name[...]].map(String.init).flatMap { $0.isEmpty ? nil : $0 } }
        if let wanted = value("task_id") {  // search by id: straight to the task
            guard let id = UUID(uuidString: wanted.trimmingCharacters(in: .whitespaces)) else {
                return DashboardPage.message(.badRequest, title: "Tasks", "A task id is a UUID.", session: session, back: "/ui/tasks")
            }
            return Response(status: .seeOther, headers: [.location: "/ui/tasks/\(id.uuidString.lowercased())"])
        }
        let listQuery = TaskListQuery(value)
        if value("state") != nil && listQuery.state == nil {
            return DashboardPage.message(.badRequest, title: "Tasks", "There is no state \(value("state") ?? "").", session: session, back: "/ui/tasks")
        }
        let filter: TaskListFilter
        do {
            filter = try await listQuery.filter {
                try await dependencies.templates.templates(namespace: listQuery.namespace, name: listQuery.name)
            }
        } catch let problem as TaskListQuery.Problem {
            return DashboardPage.message(.badRequest, title: "Tasks", problem.message, session: session, back: "/ui/tasks")
        }
        let cursor = value("cursor").flatMap(KeysetCursor.init(token:))
        if value("cursor") != nil && cursor == nil {
            return DashboardPage.message(.badRequest, title: "Tasks", "That page link is not valid.", session: session, back: "/ui/tasks")
        }
        let page = try await dependencies.tasks.list(filter, limit: 50, after: cursor)
        let body = TaskListPage.render(page: page, query: listQuery, session: session)
        return DashboardPage.response(title: "Tasks", session: session, body: body)
    }

    func task(_ request: Request, _ context: APIRequestContext, _ session: DashboardSession) async throws -> Response {
        guard let text = context.parameters.get("task_id"), let id = UUID(uuidString: text),
            let view = try await dependencies.tasks.task(id)
        else { return DashboardPage.message(.notFound, title: "Task", "No such task.", session: session, back: "/ui/tasks") }
        let query = request.uri.queryParameters
        let selected = query["step"].map(String.init)
        var stepDetail: (step: StepRecord, transitions: [AuditEntry])?
        if let selected { stepDetail = try await dependencies.tasks.step(task: id, reference: selected) }
        // The task's own transitions (operator actions, finalization): the newest 100 of its trail's first 2,000.
        let trail = try await dependencies.tasks.auditTrail(task: id, limit: 2_000)?.items.filter { $0.stepID == nil }.suffix(100) ?? []
        let page = TaskPage(
            view: view, session: session, selected: stepDetail, taskTrail: Array(trail), notice: query["notice"].map(String.init))
        return DashboardPage.response(
            title: "Task \(view.task.template.name)", session: session, body: page.render(),
            refreshSeconds: view.task.state.isFinished ? nil : 3)
    }

    /// `GET /ui/tasks/{task_id}/live`: the state and the DAG's SVG, polled by the task page.
    func live(_ context: APIRequestContext, _ session: DashboardSession) async throws -> Response {
        guard let text = context.parameters.get("task_id"), let id = UUID(uuidString: text),
            let view = try await dependencies.tasks.task(id)
        else { return JSONResponse.make(["error": "no such task"], status: .notFound) }
        return JSONResponse.make([
            "state": .string(view.task.state.rawValue), "state_label": .string(DashboardPage.taskStateLabel(view.task.state)),
            "finished": .bool(view.task.state.isFinished), "updated_at": .string(APITime.format(view.task.updatedAt)),
            "steps_summary": .string(TaskPage.stepsSummary(view.task.counts)),
            "completed_at": .string(view.task.completedAt.map(APITime.format) ?? "—"),
            "dag": .string(TaskPage.diagram(view, selected: nil)),
            "steps": .array(view.steps.map { ["name": .string($0.name), "state": .string($0.state.rawValue), "attempts": .int(Int64($0.attempts))] }),
        ], headers: [.cacheControl: "no-store"])
    }
}
