internal import Foundation
public import Logging
public import TaskerCore
public import TaskerPostgres

/// Registered templates, loaded from PostgreSQL and reloaded when a request names one it
/// does not know (at most once per `reloadInterval`).
public actor TemplateCache {
    private let store: PostgresStore
    private let logger: Logger
    private var catalog = TemplateCatalog()
    private var lastLoad: ContinuousClock.Instant?
    private let reloadInterval: Duration

    public init(store: PostgresStore, reloadInterval: Duration = .seconds(1), logger: Logger) {
        self.store = store
        self.reloadInterval = reloadInterval
        self.logger = logger
    }

    /// Loads every registered template now.
    public func reload() async throws {
        catalog = TemplateCatalog(try await store.loadTemplates())
        lastLoad = .now
    }

    /// The template, reloading the registry once if it is not known yet.
    public func lookup(namespace: String, name: String, version: SemanticVersion?) async throws -> TaskTemplate? {
        if let template = catalog.lookup(namespace: namespace, name: name, version: version) { return template }
        if let lastLoad, ContinuousClock.now - lastLoad < reloadInterval { return nil }
        try await reload()
        return catalog.lookup(namespace: namespace, name: name, version: version)
    }
}
