internal import Foundation
internal import Hummingbird
internal import TaskerCore
internal import TaskerPostgres

/// The dashboard's pages (`GET`): overview, tasks, one task (with its live JSON), templates.
/// Without a live session they redirect to the sign-in page; the read scopes are checked as in
/// the API (`tasks:read`, `templates:read`).
struct DashboardReadRoutes: Sendable {
    let dependencies: APIDependencies
    let sessions: DashboardSessions
    let cookies: DashboardCookies

    func register(on ui: RouterGroup<APIRequestContext>) {
        ui.get("overview") { request, _ in try await signedIn(request, .tasksRead) { try await overview($0) } }
        ui.get("tasks") { request, _ in try await signedIn(request, .tasksRead) { try await tasks(request, $0) } }
        ui.get("tasks/{task_id}") { request, context in try await signedIn(request, .tasksRead) { try await task(request, context, $0) } }
        ui.get("tasks/{task_id}/live") { request, context in
            guard let session = sessions.current(request), session.principal.has(.tasksRead) else {
                return JSONResponse.make(["error": "sign in again"], status: .unauthorized)
            }
            return try await live(context, session)
        }
        ui.get("templates") { request, _ in try await signedIn(request, .templatesRead) { try await templates($0) } }
    }

    private func signedIn(_ request: Request, _ scope: APIScope, _ page: (DashboardSession) async throws -> Response) async throws -> Response {
        guard let session = sessions.current(request) else { return Response(status: .seeOther, headers: [.location: "/ui/login"]) }
        guard session.principal.has(scope) else {
            return DashboardPage.message(.forbidden, title: "Not allowed", "Your key lacks the scope \(scope.rawValue).", session: session)
        }
        return try await page(session)
    }

    /// Tasks by state (counted up to a cap with the listing query), recent failures, running tasks.
    func overview(_ session: DashboardSession) async throws -> Response {
        let cap = 1_000
        var counts = ""
        for state in TaskState.allCases {
            let page = try await dependencies.tasks.list(TaskListFilter(states: [state]), limit: cap)
            let count = page.next == nil ? "\(page.items.count)" : "\(cap)+"
            counts += "<tr><td><a href=\"/ui/tasks?state=\(state.rawValue)\">\(DashboardPage.taskState(state))</a></td>"
                + "<td class=\"count\" data-state=\"\(state.rawValue)\">\(count)</td></tr>"
        }
        let failures = try await dependencies.tasks.list(TaskListFilter(states: [.error]), limit: 10).items
        let running = try await dependencies.tasks.list(TaskListFilter(states: [.inProgress, .pending]), limit: 10).items
        let body = """
            <section class="panel"><h2>Tasks by state</h2><table id="by-state"><tr><th>State</th><th>Tasks</th></tr>\(counts)</table></section>
            <section class="panel"><h2>Recent failures</h2>\(TaskListPage.table(failures, id: "recent-failures"))</section>
            <section class="panel"><h2>Running</h2>\(TaskListPage.table(running, id: "running"))</section>
            """
        return DashboardPage.response(title: "Overview", session: session, body: body, refreshSeconds: 10, refreshWithScript: true)
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
        var filter = TaskListFilter(namespace: value("namespace"), name: value("name"))
        let state = value("state").flatMap(TaskState.init(rawValue:))
        if let state { filter.states = [state] }
        let cursor = value("cursor").flatMap(KeysetCursor.init(token:))
        if value("cursor") != nil && cursor == nil {
            return DashboardPage.message(.badRequest, title: "Tasks", "That page link is not valid.", session: session, back: "/ui/tasks")
        }
        let page = try await dependencies.tasks.list(filter, limit: 50, after: cursor)
        let body = TaskListPage.render(page: page, state: state, namespace: filter.namespace, name: filter.name)
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

    func templates(_ session: DashboardSession) async throws -> Response {
        let registered = try await dependencies.templates.templates()
        var body = ""
        for entry in registered {
            let template = entry.template
            let diagram = DAGDiagram(nodes: template.steps.map { .init(name: $0.name, parents: $0.dependsOn, state: nil, attempts: nil) }).render()
            body += """
                <section class="panel template"><h2>\(HTML.escape(template.key.description))</h2>
                <p>\(HTML.escape(template.description ?? "")) Registered \(DashboardPage.time(entry.registeredAt)).
                <a href="/ui/tasks?namespace=\(HTML.query(template.namespace))&amp;name=\(HTML.query(template.name))">Its tasks</a></p>
                <div class="dag-wrap">\(diagram)</div></section>
                """
        }
        return DashboardPage.response(title: "Templates", session: session, body: body.isEmpty ? "<p>No templates are registered.</p>" : body)
    }
}
