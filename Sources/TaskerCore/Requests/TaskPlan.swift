public import Foundation

/// Everything to store for a new task: the task row, its steps and its edges.
///
/// Built by ``TaskPlanner`` from a template and a validated request, with ids from an
/// injected generator, so creating a task is pure up to the single insert that stores it.
public struct TaskPlan: Sendable, Hashable {
    public struct Step: Sendable, Hashable {
        public var id: UUID
        public var name: String
        public var handler: String
        /// Index in the template (and in ``TaskPlan/steps``).
        public var position: Int
        public var retry: RetryPolicy
        public var timeoutSeconds: Double
        public var handlerConfig: JSONValue
    }

    public var taskID: UUID
    public var template: TemplateKey
    public var context: JSONValue
    /// `nil` for `always_unique` templates.
    public var identityHash: String?
    public var initiator: String?
    public var sourceSystem: String?
    public var reason: String?
    public var tags: [String]
    public var priority: Int
    public var steps: [Step]
    /// `(parent, child)` pairs of step ids.
    public var edges: [(parent: UUID, child: UUID)]

    public static func == (lhs: TaskPlan, rhs: TaskPlan) -> Bool {
        lhs.taskID == rhs.taskID && lhs.template == rhs.template && lhs.context == rhs.context
            && lhs.identityHash == rhs.identityHash && lhs.steps == rhs.steps
            && lhs.edges.map(\.parent) == rhs.edges.map(\.parent) && lhs.edges.map(\.child) == rhs.edges.map(\.child)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(taskID)
        hasher.combine(identityHash)
    }
}

/// Validates a request against its template and plans the task.
public enum TaskPlanner {
    /// Checks the context against the template's schema and the identity rules, then plans the task.
    /// - Throws: ``RequestRejection`` with every problem found.
    public static func plan(
        _ request: TaskRequest,
        template: TaskTemplate,
        makeID: () -> UUID
    ) throws(RequestRejection) -> TaskPlan {
        var errors: [String] = []
        if let schema = template.contextSchema {
            errors += schema.validate(request.context).map { "context \($0)" }
        }
        var identity: String?
        do {
            identity = try TaskIdentity.hash(
                strategy: template.identityStrategy,
                template: template.key,
                context: request.context,
                idempotencyKey: request.idempotencyKey
            )
        } catch {
            errors.append(error.description)
        }
        if !errors.isEmpty { throw RequestRejection(errors) }

        let steps = template.steps.enumerated().map { position, step in
            TaskPlan.Step(
                id: makeID(),
                name: step.name,
                handler: step.handler,
                position: position,
                retry: step.retry,
                timeoutSeconds: step.timeoutSeconds,
                handlerConfig: step.handlerConfig
            )
        }
        var edges: [(parent: UUID, child: UUID)] = []
        for child in template.graph.topologicalOrder {
            for parent in template.graph.parents[child] {
                edges.append((steps[parent].id, steps[child].id))
            }
        }
        return TaskPlan(
            taskID: makeID(),
            template: template.key,
            context: request.context,
            identityHash: identity,
            initiator: request.initiator,
            sourceSystem: request.sourceSystem,
            reason: request.reason,
            tags: request.tags,
            priority: request.priority,
            steps: steps,
            edges: edges
        )
    }
}
