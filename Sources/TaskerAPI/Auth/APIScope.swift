/// A permission an API key or token carries. Each endpoint needs one (docs/api.md).
public struct APIScope: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init?(rawValue: String) {
        guard Self.all.contains(where: { $0.rawValue == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    private init(_ rawValue: String) { self.rawValue = rawValue }

    /// Read tasks, steps and audit trails.
    public static let tasksRead = APIScope("tasks:read")
    /// Submit tasks.
    public static let tasksWrite = APIScope("tasks:write")
    /// Operator actions: cancel, retry, resolve.
    public static let tasksOperate = APIScope("tasks:operate")
    /// Read templates and their DAGs.
    public static let templatesRead = APIScope("templates:read")
    /// Read and replay dead-lettered messages.
    public static let dlqOperate = APIScope("dlq:operate")

    /// Every scope, in a fixed order.
    public static let all: [APIScope] = [tasksRead, tasksWrite, tasksOperate, templatesRead, dlqOperate]

    /// Parses a list such as `tasks:read,tasks:write` or `*` (every scope).
    /// - Throws: ``AuthConfigurationError`` naming an unknown scope.
    public static func parseList(_ text: String) throws -> Set<APIScope> {
        var scopes: Set<APIScope> = []
        for item in text.split(whereSeparator: { $0 == "," || $0 == " " }) {
            if item == "*" {
                scopes.formUnion(all)
            } else if let scope = APIScope(rawValue: String(item)) {
                scopes.insert(scope)
            } else {
                throw AuthConfigurationError("unknown scope '\(item)' (known: \(all.map(\.rawValue).joined(separator: ", ")), or *)")
            }
        }
        return scopes
    }

    public var description: String { rawValue }
    public static func < (lhs: APIScope, rhs: APIScope) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Who made a request, as authentication established it.
public struct Principal: Sendable, Hashable {
    /// How the caller was authenticated.
    public enum Method: String, Sendable, Hashable {
        case apiKey = "api_key"
        case jwt
        /// No credentials, on a server run with `--insecure-open`.
        case open
    }

    /// The API key's name or the token's `sub`: recorded as the actor of operator actions.
    public var name: String
    public var scopes: Set<APIScope>
    public var method: Method

    public init(name: String, scopes: Set<APIScope>, method: Method) {
        self.name = name
        self.scopes = scopes
        self.method = method
    }

    /// Whether the caller holds `scope`.
    public func has(_ scope: APIScope) -> Bool { scopes.contains(scope) }
}
