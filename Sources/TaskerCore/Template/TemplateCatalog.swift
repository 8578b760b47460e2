/// An in-memory set of templates with version lookup: exact, or the latest of a name.
public struct TemplateCatalog: Sendable {
    private var byName: [String: [SemanticVersion: TaskTemplate]] = [:]

    public init(_ templates: [TaskTemplate] = []) {
        for template in templates { insert(template) }
    }

    /// Adds or replaces a template.
    public mutating func insert(_ template: TaskTemplate) {
        byName["\(template.namespace)/\(template.name)", default: [:]][template.version] = template
    }

    /// The template `namespace/name` at `version`, or its latest version when `version` is `nil`.
    public func lookup(namespace: String, name: String, version: SemanticVersion?) -> TaskTemplate? {
        guard let versions = byName["\(namespace)/\(name)"] else { return nil }
        if let version { return versions[version] }
        return versions.keys.max().flatMap { versions[$0] }
    }

    /// All templates, sorted by key.
    public var all: [TaskTemplate] {
        byName.values.flatMap(\.values).sorted { $0.key.description < $1.key.description }
    }
}
