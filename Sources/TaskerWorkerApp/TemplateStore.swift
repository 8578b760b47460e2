public import Logging
public import TaskerCore

/// Where templates are registered (PostgreSQL, for Tasker's coordinator): lets a worker
/// register its application's templates at start and check the registered ones.
///
/// `TaskerWorkerPostgres.PostgresTemplateStore` is the implementation; the SDK itself needs
/// no database, so a worker without a store checks only its application's own templates.
public protocol TemplateStore: Sendable {
    /// Registers `templates` (the same content again is a no-op) and returns, for each, whether
    /// it was new.
    func register(_ templates: [TaskTemplate], logger: Logger) async throws -> [(key: TemplateKey, created: Bool)]

    /// Every registered template, every version.
    func registeredTemplates(logger: Logger) async throws -> [TaskTemplate]
}
