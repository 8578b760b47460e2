public import Foundation

/// A request to run a task template with a context, from another service or the API.
public struct TaskRequest: Sendable, Hashable {
    public var namespace: String
    public var name: String
    /// `nil` means the latest registered version.
    public var version: SemanticVersion?
    /// Always a JSON object.
    public var context: JSONValue
    public var initiator: String?
    public var sourceSystem: String?
    public var reason: String?
    public var tags: [String]
    public var idempotencyKey: String?
    public var priority: Int

    public init(
        namespace: String,
        name: String,
        version: SemanticVersion? = nil,
        context: JSONValue = .object([:]),
        initiator: String? = nil,
        sourceSystem: String? = nil,
        reason: String? = nil,
        tags: [String] = [],
        idempotencyKey: String? = nil,
        priority: Int = 0
    ) {
        self.namespace = namespace
        self.name = name
        self.version = version
        self.context = context
        self.initiator = initiator
        self.sourceSystem = sourceSystem
        self.reason = reason
        self.tags = tags
        self.idempotencyKey = idempotencyKey
        self.priority = priority
    }

    /// The largest request body accepted: ``InputLimit/taskRequestBody`` (1 MiB).
    public static let maxBodyBytes = InputLimit.taskRequestBody.maximum

    static let knownKeys: Set<String> = [
        "namespace", "name", "version", "context", "initiator", "source_system", "reason", "tags",
        "idempotency_key", "priority", "schema_version",
    ]

    /// Decodes a request body, collecting every problem instead of stopping at the first.
    ///
    /// A body over ``InputLimit/taskRequestBody`` or nested deeper than
    /// ``InputLimit/messageNestingDepth`` is refused before it is parsed.
    /// - Throws: ``RequestRejection`` listing each problem; ``RequestRejection/limits`` names
    ///   the limits the request is over.
    public static func decode(_ body: Data) throws(RequestRejection) -> TaskRequest {
        guard body.count <= maxBodyBytes else {
            throw RequestRejection(limit: InputLimit.taskRequestBody.exceeded(by: body.count))
        }
        let depth = JSONText.nestingDepth(of: body)
        guard depth <= InputLimit.messageNestingDepth.maximum else {
            throw RequestRejection(limit: InputLimit.messageNestingDepth.exceeded(by: depth, in: InputLimit.taskRequestBody.subject))
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(body)
        } catch {
            throw RequestRejection(["\(error)"])
        }
        return try decode(document)
    }

    /// Decodes a parsed request document.
    ///
    /// The context must be nested at most ``InputLimit/nestingDepth`` levels deep and be at
    /// most ``InputLimit/contextBytes`` as canonical JSON.
    public static func decode(_ document: JSONValue) throws(RequestRejection) -> TaskRequest {
        guard let fields = document.objectValue else {
            throw RequestRejection(["request must be a JSON object, got \(document.typeName)"])
        }
        var errors: [String] = []
        var limits: [InputLimitExceeded] = []
        for key in fields.keys.sorted() where !knownKeys.contains(key) {
            errors.append("unknown field '\(key)'")
        }
        func string(_ key: String, required: Bool = false) -> String? {
            switch fields[key] {
            case nil, .null?:
                if required { errors.append("'\(key)' is required") }
                return nil
            case .string(let value)?:
                if required && value.isEmpty { errors.append("'\(key)' must not be empty") }
                return value
            case let other?:
                errors.append("'\(key)' must be a string, got \(other.typeName)")
                return nil
            }
        }
        let namespace = string("namespace", required: true)
        let name = string("name", required: true)
        var version: SemanticVersion?
        if let text = string("version") {
            version = SemanticVersion(text)
            if version == nil { errors.append("'version' must be a semantic version like 1.0.0, got '\(text)'") }
        }
        var context = JSONValue.object([:])
        switch fields["context"] {
        case nil, .null?: break
        case .object?:
            context = fields["context"]!
            if let exceeded = context.nestingLimitExceeded(place: "'context'")
                ?? context.sizeLimitExceeded(.contextBytes, place: "'context'")
            {
                errors.append(exceeded.description)
                limits.append(exceeded)
            }
        case let other?: errors.append("'context' must be a JSON object, got \(other.typeName)")
        }
        var tags: [String] = []
        switch fields["tags"] {
        case nil, .null?: break
        case .array(let elements)?:
            tags = elements.compactMap(\.stringValue)
            if tags.count != elements.count { errors.append("'tags' must be a list of strings") }
        case let other?: errors.append("'tags' must be a list of strings, got \(other.typeName)")
        }
        var priority = 0
        if let value = fields["priority"], value != .null {
            if let number = value.intValue, let small = Int(exactly: number) { priority = small } else {
                errors.append("'priority' must be an integer, got \(value.typeName)")
            }
        }
        let request = TaskRequest(
            namespace: namespace ?? "",
            name: name ?? "",
            version: version,
            context: context,
            initiator: string("initiator"),
            sourceSystem: string("source_system"),
            reason: string("reason"),
            tags: tags,
            idempotencyKey: string("idempotency_key"),
            priority: priority
        )
        if !errors.isEmpty { throw RequestRejection(errors, limits: limits) }
        return request
    }

    /// The request as the JSON document ``decode(_:)-swift.type.method`` reads.
    public var json: JSONValue {
        var fields: [String: JSONValue] = [
            "namespace": .string(namespace), "name": .string(name), "context": context,
            "tags": .array(tags.map(JSONValue.string)), "priority": .int(Int64(priority)),
        ]
        if let version { fields["version"] = .string(version.description) }
        if let initiator { fields["initiator"] = .string(initiator) }
        if let sourceSystem { fields["source_system"] = .string(sourceSystem) }
        if let reason { fields["reason"] = .string(reason) }
        if let idempotencyKey { fields["idempotency_key"] = .string(idempotencyKey) }
        return .object(fields)
    }
}

/// Why a task request was refused; carries every problem found.
public struct RequestRejection: Error, Sendable, Hashable, CustomStringConvertible {
    public var errors: [String]
    /// The input limits the request is over (each is also described in ``errors``).
    public var limits: [InputLimitExceeded]

    public init(_ errors: [String], limits: [InputLimitExceeded] = []) {
        self.errors = errors
        self.limits = limits
    }

    /// A request refused for being over one limit.
    public init(limit: InputLimitExceeded) {
        self.init([limit.description], limits: [limit])
    }
    public var description: String { "task request rejected: " + errors.joined(separator: "; ") }
}
