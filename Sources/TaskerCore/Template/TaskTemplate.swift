/// A versioned workflow definition: the steps of a DAG, their handlers and retry rules.
///
/// Build one with ``TemplateLoader`` from YAML; the loader guarantees the invariants
/// (unique step names, known dependencies, no cycles), and ``graph`` is the validated DAG.
public struct TaskTemplate: Sendable, Hashable {
    public var key: TemplateKey
    public var description: String?
    /// Validates a task's context before anything is stored.
    public var contextSchema: JSONSchema?
    /// How duplicate requests are recognised.
    public var identityStrategy: IdentityStrategy
    /// Steps in the order the template lists them.
    public var steps: [StepTemplate]
    /// The DAG over ``steps``; node `i` is `steps[i]`.
    public var graph: WorkflowGraph
    /// The template as loaded (after environment overrides), used for storage and hashing.
    public var definition: JSONValue

    public var namespace: String { key.namespace }
    public var name: String { key.name }
    public var version: SemanticVersion { key.version }

    public init(
        key: TemplateKey,
        description: String? = nil,
        contextSchema: JSONSchema? = nil,
        identityStrategy: IdentityStrategy = .strict,
        steps: [StepTemplate],
        graph: WorkflowGraph,
        definition: JSONValue
    ) {
        self.key = key
        self.description = description
        self.contextSchema = contextSchema
        self.identityStrategy = identityStrategy
        self.steps = steps
        self.graph = graph
        self.definition = definition
    }

    /// The step named `name`, if the template has one.
    public func step(named name: String) -> StepTemplate? {
        graph.index(of: name).map { steps[$0] }
    }

    /// SHA-256 of the canonical definition: two loads of the same content give the same hash.
    public var contentHash: String { Digest.sha256Hex(definition.canonicalData()) }
}
