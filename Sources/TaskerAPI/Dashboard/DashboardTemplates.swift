internal import Foundation
internal import Hummingbird
internal import TaskerCore
internal import TaskerPostgres

/// `GET /ui/templates` (every registered version with its DAG) and
/// `GET /ui/templates/{namespace}/{name}?version=…` (one template: its DAG, its definition as
/// YAML, its latest tasks and a link to all of them). Scope `templates:read`; the latest
/// tasks also need `tasks:read`.
struct DashboardTemplates: Sendable {
    let dependencies: APIDependencies

    static let recentTasks = 10

    func list(_ session: DashboardSession) async throws -> Response {
        let registered = try await dependencies.templates.templates()
        var body = ""
        for entry in registered {
            let template = entry.template
            body += """
                <section class="panel template" data-template="\(HTML.escape(template.key.description))"><h2>\(HTML.escape(template.key.description))</h2>
                <p>\(HTML.escape(template.description ?? "")) Registered \(DashboardPage.time(entry.registeredAt)).
                <a href="\(Self.detailPath(template))" class="template-detail">Source and recent tasks</a> ·
                <a href="\(Self.tasksPath(template))">All its tasks</a></p>
                <div class="dag-wrap">\(Self.diagram(template))</div></section>
                """
        }
        return DashboardPage.response(title: "Templates", session: session, body: body.isEmpty ? "<p>No templates are registered.</p>" : body)
    }

    func detail(_ request: Request, _ context: APIRequestContext, _ session: DashboardSession) async throws -> Response {
        let namespace = context.parameters.get("namespace") ?? "", name = context.parameters.get("name") ?? ""
        let versions = try await dependencies.templates.templates(namespace: namespace, name: name)
        let wanted = request.uri.queryParameters["version"].map(String.init)
        guard let entry = wanted.map({ version in versions.first { $0.template.version.description == version } }) ?? versions.last else {
            return DashboardPage.message(.notFound, title: "Template", "No template \(namespace)/\(name)\(wanted.map { "@\($0)" } ?? "") is registered.", session: session, back: "/ui/templates")
        }
        let template = entry.template
        var versionLinks = ""
        for other in versions {
            let label = HTML.escape(other.template.version.description)
            versionLinks += other.template.version == template.version
                ? " <strong>\(label)</strong>" : " <a href=\"\(Self.detailPath(other.template))\">\(label)</a>"
        }
        var recent = "<p>Your key lacks the scope tasks:read.</p>"
        if session.principal.has(.tasksRead) {
            let tasks = try await dependencies.tasks.list(TaskListFilter(namespace: namespace, name: name), limit: Self.recentTasks).items
            recent = TaskListPage.table(tasks, id: "template-tasks")
        }
        let body = """
            <section class="panel" id="template-header"><dl>
            <dt>Template</dt><dd>\(HTML.escape(template.key.description))</dd>
            <dt>Description</dt><dd>\(HTML.escape(template.description ?? "—"))</dd>
            <dt>Identity</dt><dd>\(HTML.escape(template.identityStrategy.rawValue))</dd>
            <dt>Registered</dt><dd>\(DashboardPage.time(entry.registeredAt))</dd>
            <dt>Versions</dt><dd id="template-versions">\(versionLinks)</dd>
            </dl></section>
            <div class="columns">
            <section class="panel"><h2>DAG</h2><div class="dag-wrap">\(Self.diagram(template))</div></section>
            <section class="panel"><h2>Definition (YAML)</h2>
            <pre id="template-source">\(HTML.escape(TemplateYAML.render(template.definition)))</pre>
            <p class="hint">As registered (the environment's settings applied), written back as YAML; content hash <code>\(HTML.escape(template.contentHash))</code>.</p></section>
            </div>
            <section class="panel"><h2>Latest tasks (all versions)</h2>\(recent)
            <p><a id="template-all-tasks" href="\(Self.tasksPath(template))">All tasks of \(HTML.escape(namespace))/\(HTML.escape(name)) →</a></p></section>
            """
        return DashboardPage.response(title: "Template \(template.key.description)", session: session, body: body)
    }

    static func diagram(_ template: TaskTemplate) -> String {
        DAGDiagram(nodes: template.steps.map { .init(name: $0.name, parents: $0.dependsOn, state: nil, attempts: nil) }).render()
    }

    static func detailPath(_ template: TaskTemplate) -> String {
        "/ui/templates/\(HTML.pathSegment(template.namespace))/\(HTML.pathSegment(template.name))?version=\(HTML.query(template.version.description))"
    }

    static func tasksPath(_ template: TaskTemplate) -> String {
        "/ui/tasks?namespace=\(HTML.query(template.namespace))&amp;name=\(HTML.query(template.name))"
    }
}
