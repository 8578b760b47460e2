/// Identifies a task template: `namespace/name@version`.
public struct TemplateKey: Sendable, Hashable, CustomStringConvertible, Codable {
    public var namespace: String
    public var name: String
    public var version: SemanticVersion

    public init(namespace: String, name: String, version: SemanticVersion) {
        self.namespace = namespace
        self.name = name
        self.version = version
    }

    public var description: String { "\(namespace)/\(name)@\(version)" }
}
