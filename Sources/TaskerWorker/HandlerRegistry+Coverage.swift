public import TaskerCore

/// A template step whose handler a worker does not have.
public struct MissingHandler: Sendable, Hashable, CustomStringConvertible {
    /// The template the step belongs to.
    public var template: TemplateKey
    /// The step's name.
    public var step: String
    /// The handler name the step asks for.
    public var handler: String

    public init(template: TemplateKey, step: String, handler: String) {
        self.template = template
        self.step = step
        self.handler = handler
    }

    public var description: String {
        "\(template): step '\(step)' needs handler '\(handler)'"
    }
}

extension HandlerRegistry {
    /// The steps of `templates` in the served `namespaces` whose handler is not registered here,
    /// in template and step order. Templates of other namespaces are not looked at: other
    /// workers serve them.
    ///
    /// A worker that serves a namespace receives every step of it, so a step without a handler
    /// would fail permanently at run time ("no handler registered"). `WorkerApp` refuses to start
    /// on any; an application can assert the same in its own tests:
    ///
    /// ```swift
    /// #expect(registry.missingHandlers(in: templates, namespaces: ["ecommerce"]).isEmpty)
    /// ```
    public func missingHandlers(in templates: [TaskTemplate], namespaces: some Sequence<String>) -> [MissingHandler] {
        let served = Set(namespaces)
        var missing: [MissingHandler] = []
        var seen = Set<MissingHandler>()
        for template in templates where served.contains(template.namespace) {
            for step in template.steps where !contains(step.handler) {
                let gap = MissingHandler(template: template.key, step: step.name, handler: step.handler)
                if seen.insert(gap).inserted { missing.append(gap) }
            }
        }
        return missing
    }
}
