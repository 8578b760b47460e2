internal import Hummingbird
internal import TaskerCore
internal import TaskerPostgres

/// Registered templates and their DAGs (`templates:read`).
struct TemplateRoutes: APIRouteCollection {
    let dependencies: APIDependencies

    func register(on v1: RouterGroup<APIRequestContext>) {
        let templates = v1.group("templates")
        templates.get { request, context in try await list(request, context) }
        templates.get("{namespace}/{name}") { request, context in try await show(request, context) }
    }

    /// `GET /v1/templates`: every registered version, optionally of one namespace or name.
    func list(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.require(.templatesRead)
        let query = try QueryReader(request, accepted: ["namespace", "name"])
        let templates = try await dependencies.templates.templates(namespace: try query.string("namespace"), name: try query.string("name"))
        return JSONResponse.make(["templates": .array(templates.map(TemplatePresenter.summary))])
    }

    /// `GET /v1/templates/{namespace}/{name}[?version=x.y.z]`: one version (the latest unless
    /// named) with its steps, DAG edges and Mermaid diagram.
    func show(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.require(.templatesRead)
        let namespace = try RequestReading.text("namespace", context)
        let name = try RequestReading.text("name", context)
        let query = try QueryReader(request, accepted: ["version"])
        var version: SemanticVersion?
        if let text = try query.string("version") {
            guard let parsed = SemanticVersion(text) else { throw APIError.badRequest("'version' must be a semantic version like 1.0.0") }
            version = parsed
        }
        let versions = try await dependencies.templates.templates(namespace: namespace, name: name)
        guard let chosen = version.map({ wanted in versions.first { $0.template.version == wanted } }) ?? versions.last else {
            let suffix = version.map { "@\($0)" } ?? ""
            throw APIError.notFound("no template \(namespace)/\(name)\(suffix)")
        }
        return JSONResponse.make(TemplatePresenter.detail(chosen, versions: versions.map(\.template.version)))
    }
}
