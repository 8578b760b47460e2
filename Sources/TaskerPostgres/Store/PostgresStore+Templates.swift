internal import Foundation
internal import PostgresNIO
public import TaskerCore

extension PostgresStore {
    /// Registers a template version. Registering the same content again is a no-op; registering
    /// the same `namespace/name@version` with different content is refused (``StoreError/Code/templateConflict``):
    /// publish a new version instead.
    @discardableResult
    public func registerTemplate(_ template: TaskTemplate) async throws -> TemplateRegistration {
        let version = template.version
        let hash = template.contentHash
        let logger = self.logger
        let inserted = try await database.withConnection { connection in try await connection.query(
            """
            INSERT INTO task_templates (namespace, name, version, version_major, version_minor, version_patch, version_pre,
                                        definition, content_hash)
            VALUES (\(template.namespace), \(template.name), \(version.description), \(version.major), \(version.minor),
                    \(version.patch), \(version.prerelease), \(template.definition.canonicalString)::jsonb, \(hash))
            ON CONFLICT (namespace, name, version) DO NOTHING
            RETURNING id
            """,
            logger: logger
        ).collectFirst(Int64.self) }
        if let inserted { return TemplateRegistration(id: inserted, created: true) }

        let existing = try await database.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT id, content_hash FROM task_templates
                WHERE namespace = \(template.namespace) AND name = \(template.name) AND version = \(version.description)
                """,
                logger: logger
            )
            var existing: (Int64, String)?
            for try await row in rows.decode((Int64, String).self) { existing = row }
            return existing
        }
        guard let existing else { throw StoreError(.templateNotFound, "template \(template.key) vanished while registering") }
        guard existing.1 == hash else {
            throw StoreError(.templateConflict, "template \(template.key) is already registered with different content; bump its version")
        }
        return TemplateRegistration(id: existing.0, created: false)
    }

    /// Every registered template, re-validated from its stored definition.
    public func loadTemplates() async throws -> [TaskTemplate] {
        let logger = self.logger
        let stored = try await database.withConnection { connection in
            try await Self.storedTemplates(on: connection, logger: logger)
        }
        var templates: [TaskTemplate] = []
        for entry in stored {
            let document = try JSONValue.parse(entry.definition)
            templates.append(try TemplateLoader().load(document: document, file: entry.label))
        }
        return templates
    }

    /// A registered template's stored definition.
    struct StoredDefinition: Sendable {
        var label: String
        var definition: String
    }

    // A separate function: Swift 6.3.1's release build crashed (LLVM coroutine splitting) on
    // this loop written inline in the closure above.
    private static func storedTemplates(on connection: PostgresConnection, logger: Logger) async throws -> [StoredDefinition] {
        let rows = try await connection.query(
            "SELECT namespace, name, version, definition::text FROM task_templates ORDER BY namespace, name, id",
            logger: logger
        )
        var stored: [StoredDefinition] = []
        for try await (namespace, name, version, definition) in rows.decode((String, String, String, String).self) {
            stored.append(StoredDefinition(label: "registry:\(namespace)/\(name)@\(version)", definition: definition))
        }
        return stored
    }
}
