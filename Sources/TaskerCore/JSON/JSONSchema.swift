/// A validator for the subset of JSON Schema that task templates use in `context_schema`.
///
/// Supported keywords: `type` (a name or a list), `required`, `properties`,
/// `additionalProperties` (boolean or schema), `enum`, `const`, `minimum`, `maximum`,
/// `exclusiveMinimum`, `exclusiveMaximum`, `minLength`, `maxLength`, `pattern`-free strings,
/// `items`, `minItems`, `maxItems`. Unknown keywords are rejected when the schema is
/// compiled, so a typo in a template never silently disables a check.
///
/// ```swift
/// let schema = try JSONSchema(["type": "object", "required": ["order_id"]])
/// let problems = schema.validate(context)   // [] when valid
/// ```
public struct JSONSchema: Sendable, Hashable {
    /// The schema document as written in the template.
    public let document: JSONValue

    static let knownKeywords: Set<String> = [
        "type", "required", "properties", "additionalProperties", "enum", "const", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "items", "minItems", "maxItems",
        "description", "title", "default", "$schema", "examples",
    ]
    static let typeNames: Set<String> = ["null", "boolean", "integer", "number", "string", "array", "object"]

    /// Compiles a schema, checking that it only uses supported keywords with well-formed values.
    /// - Throws: ``JSONSchema/InvalidSchema`` naming the offending path and keyword.
    public init(_ document: JSONValue) throws {
        try Self.check(document, path: "$")
        self.document = document
    }

    /// Validates `value`; returns every problem found, each naming the failing path (`$.order.id`).
    public func validate(_ value: JSONValue) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        Self.validate(value, against: document, path: "$", into: &violations)
        return violations
    }

    /// A schema that is not well formed.
    public struct InvalidSchema: Error, Sendable, CustomStringConvertible, Equatable {
        public let path: String
        public let message: String

        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }

        public var description: String { "invalid schema at \(path): \(message)" }
    }

    private static func check(_ schema: JSONValue, path: String) throws {
        if schema.boolValue != nil { return }
        guard let members = schema.objectValue else {
            throw InvalidSchema(path: path, message: "a schema must be an object or a boolean, not \(schema.typeName)")
        }
        for key in members.keys.sorted() where !knownKeywords.contains(key) {
            throw InvalidSchema(path: path, message: "unsupported keyword '\(key)'")
        }
        if let type = members["type"] {
            let names = type.arrayValue ?? [type]
            for name in names {
                guard let text = name.stringValue, typeNames.contains(text) else {
                    throw InvalidSchema(path: path, message: "'type' must name one of \(typeNames.sorted()), got \(name.canonicalString)")
                }
            }
        }
        if let required = members["required"] {
            guard let names = required.arrayValue, names.allSatisfy({ $0.stringValue != nil }) else {
                throw InvalidSchema(path: path, message: "'required' must be a list of property names")
            }
        }
        for keyword in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
            if let bound = members[keyword], bound.doubleValue == nil {
                throw InvalidSchema(path: path, message: "'\(keyword)' must be a number")
            }
        }
        for keyword in ["minLength", "maxLength", "minItems", "maxItems"] {
            if let bound = members[keyword], (bound.intValue ?? -1) < 0 {
                throw InvalidSchema(path: path, message: "'\(keyword)' must be a non-negative integer")
            }
        }
        if let options = members["enum"], options.arrayValue == nil {
            throw InvalidSchema(path: path, message: "'enum' must be a list")
        }
        if let properties = members["properties"] {
            guard let map = properties.objectValue else {
                throw InvalidSchema(path: path, message: "'properties' must be an object")
            }
            for (name, sub) in map { try check(sub, path: "\(path).properties.\(name)") }
        }
        if let additional = members["additionalProperties"] { try check(additional, path: "\(path).additionalProperties") }
        if let items = members["items"] { try check(items, path: "\(path).items") }
    }

    private static func matches(_ value: JSONValue, type name: String) -> Bool {
        switch (name, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
        case ("integer", _): return value.intValue != nil
        case ("number", .int), ("number", .double): return true
        default: return false
        }
    }

    private static func validate(_ value: JSONValue, against schema: JSONValue, path: String, into violations: inout [SchemaViolation]) {
        if let allowed = schema.boolValue {
            if !allowed { violations.append(SchemaViolation(path: path, message: "no value is allowed here")) }
            return
        }
        guard let rules = schema.objectValue else { return }
        if let type = rules["type"] {
            let names = (type.arrayValue ?? [type]).compactMap(\.stringValue)
            if !names.contains(where: { matches(value, type: $0) }) {
                violations.append(SchemaViolation(path: path, message: "expected \(names.joined(separator: " or ")), got \(value.typeName)"))
                return
            }
        }
        if let options = rules["enum"]?.arrayValue, !options.contains(where: { equalAsJSON($0, value) }) {
            violations.append(SchemaViolation(path: path, message: "must be one of \(options.map(\.canonicalString).joined(separator: ", "))"))
        }
        if let constant = rules["const"], !equalAsJSON(constant, value) {
            violations.append(SchemaViolation(path: path, message: "must equal \(constant.canonicalString)"))
        }
        if let number = value.doubleValue {
            checkBounds(number, rules: rules, path: path, into: &violations)
        }
        if let text = value.stringValue {
            let length = text.count
            if let min = rules["minLength"]?.intValue, length < min {
                violations.append(SchemaViolation(path: path, message: "must be at least \(min) characters long, got \(length)"))
            }
            if let max = rules["maxLength"]?.intValue, length > max {
                violations.append(SchemaViolation(path: path, message: "must be at most \(max) characters long, got \(length)"))
            }
        }
        if let elements = value.arrayValue {
            if let min = rules["minItems"]?.intValue, elements.count < min {
                violations.append(SchemaViolation(path: path, message: "must have at least \(min) items, got \(elements.count)"))
            }
            if let max = rules["maxItems"]?.intValue, elements.count > max {
                violations.append(SchemaViolation(path: path, message: "must have at most \(max) items, got \(elements.count)"))
            }
            if let items = rules["items"] {
                for (index, element) in elements.enumerated() {
                    validate(element, against: items, path: "\(path)[\(index)]", into: &violations)
                }
            }
        }
        if let members = value.objectValue {
            for name in rules["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                violations.append(SchemaViolation(path: "\(path).\(name)", message: "is required"))
            }
            let properties = rules["properties"]?.objectValue ?? [:]
            for name in members.keys.sorted() {
                let member = members[name]!
                if let sub = properties[name] {
                    validate(member, against: sub, path: "\(path).\(name)", into: &violations)
                } else if let additional = rules["additionalProperties"] {
                    if additional == .bool(false) {
                        violations.append(SchemaViolation(path: "\(path).\(name)", message: "is not an allowed property"))
                    } else {
                        validate(member, against: additional, path: "\(path).\(name)", into: &violations)
                    }
                }
            }
        }
    }

    private static func checkBounds(_ number: Double, rules: [String: JSONValue], path: String, into violations: inout [SchemaViolation]) {
        if let min = rules["minimum"]?.doubleValue, number < min {
            violations.append(SchemaViolation(path: path, message: "must be >= \(format(min)), got \(format(number))"))
        }
        if let max = rules["maximum"]?.doubleValue, number > max {
            violations.append(SchemaViolation(path: path, message: "must be <= \(format(max)), got \(format(number))"))
        }
        if let min = rules["exclusiveMinimum"]?.doubleValue, number <= min {
            violations.append(SchemaViolation(path: path, message: "must be > \(format(min)), got \(format(number))"))
        }
        if let max = rules["exclusiveMaximum"]?.doubleValue, number >= max {
            violations.append(SchemaViolation(path: path, message: "must be < \(format(max)), got \(format(number))"))
        }
    }

    private static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
    }

    /// JSON equality where 1 and 1.0 are the same number.
    private static func equalAsJSON(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        if let left = lhs.doubleValue, let right = rhs.doubleValue { return left == right }
        return lhs == rhs
    }
}

/// One way a value fails its schema.
public struct SchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// Where the failing value is, as `$.field.nested[2]`.
    public let path: String
    public let message: String
    public var description: String { "\(path) \(message)" }
}
