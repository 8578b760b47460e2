internal import Foundation
public import Logging
internal import PostgresNIO
internal import TaskerCore

/// Read-only queries over the template registry (`task_templates`).
///
/// Each stored definition is loaded again with ``TemplateLoader``, so a reader gets the same
/// validated ``TaskTemplate`` (steps, DAG, schema) the coordinator plans with.
public struct TemplateQueries: Sendable {
    public let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Every registered version, optionally of one namespace and name, ordered by namespace,
    /// name and version.
    public func templates(namespace: String? = nil, name: String? = nil) async throws -> [RegisteredTemplate] {
        let rows = try await database.query(
            """
            SELECT namespace, name, version, definition::text AS definition, created_at
            FROM task_templates
            WHERE (\(namespace)::text IS NULL OR namespace = \(namespace)) AND (\(name)::text IS NULL OR name = \(name))
            ORDER BY namespace, name, id
            """)
        var templates: [RegisteredTemplate] = []
        for row in rows {
            let r = row.makeRandomAccess()
            let label = "registry:\(try r["namespace"].decode(String.self))/\(try r["name"].decode(String.self))@\(try r["version"].decode(String.self))"
            let document = try JSONValue.parse(try r["definition"].decode(String.self))
            let template = try TemplateLoader().load(document: document, file: label)
            templates.append(RegisteredTemplate(template: template, registeredAt: try r["created_at"].decode(Date.self)))
        }
        return templates.sorted { a, b in
            if a.template.namespace != b.template.namespace { return a.template.namespace < b.template.namespace }
            if a.template.name != b.template.name { return a.template.name < b.template.name }
            return a.template.version < b.template.version
        }
    }
}
