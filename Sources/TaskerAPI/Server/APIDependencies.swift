public import Hummingbird
public import Logging
public import TaskerPostgres
public import TaskerServices

/// What the routes use: the database readers, the shared task intake, the broker link and,
/// once they exist, the operator actions.
public struct APIDependencies: Sendable {
    public var database: Database
    public var tasks: TaskQueries
    public var templates: TemplateQueries
    /// Submissions follow the coordinator's rules through this.
    public var intake: TaskIntake
    public var broker: BrokerLink
    /// The operator actions; `nil`: the action endpoints answer 501.
    public var actions: (any TaskActionPerforming)?

    public init(database: Database, pipeline: PipelineConfiguration, broker: BrokerLink, actions: (any TaskActionPerforming)?, logger: Logger) {
        self.database = database
        self.tasks = TaskQueries(database: database, logger: logger)
        self.templates = TemplateQueries(database: database, logger: logger)
        self.intake = TaskIntake(database: database, configuration: pipeline, logger: logger)
        self.broker = broker
        self.actions = actions
    }
}

/// A set of routes under `/v1`, behind authentication. The API's own (tasks, templates, dead
/// letters, actions) are collections; a server can be given more (``APIServer``).
public protocol APIRouteCollection: Sendable {
    /// Adds the routes to `v1` (the authenticated `/v1` group).
    func register(on v1: RouterGroup<APIRequestContext>)
}
