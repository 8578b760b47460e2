internal import PostgresNIO

extension TemplateQueries {
    /// The namespaces that have at least one registered template, sorted.
    public func namespaces() async throws -> [String] {
        let rows = try await database.query("SELECT DISTINCT namespace FROM task_templates ORDER BY namespace")
        return try rows.map { try $0.decode(String.self) }
    }
}
