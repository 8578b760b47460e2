public import Foundation

/// Loads task templates from YAML and validates them.
///
/// Every problem in a file is collected (not only the first): duplicate step names, unknown
/// dependencies, dependency cycles with their path, missing handlers, bad versions, unknown
/// keys (typos are never silently ignored) and values of the wrong type. Each problem names the
/// file and, where it applies, the step.
///
/// Input limits (docs/wire-protocol.md, "Limits"): the text is at most
/// ``InputLimit/templateBytes``, the document nests at most ``InputLimit/templateNestingDepth``
/// levels, `context_schema` and every `handler_config` at most ``InputLimit/nestingDepth``, and a
/// template has at most ``InputLimit/templateSteps`` steps. Durations are at most
/// ``StepTemplate/maxDurationSeconds``. YAML aliases are not allowed.
///
/// ```swift
/// let template = try TemplateLoader(environment: "test").load(contentsOf: url)
/// ```
public struct TemplateLoader: Sendable {
    /// Applies the template's `environments.<name>` overrides when set.
    public var environment: String?

    public init(environment: String? = nil) {
        self.environment = environment
    }

    /// Loads a template from YAML text (JSON is YAML too); `file` names it in error messages.
    public func load(yaml: String, file: String) throws(TemplateLoadError) -> TaskTemplate {
        let size = yaml.utf8.count
        guard size <= InputLimit.templateBytes.maximum else {
            throw TemplateLoadError(file: file, problems: [TemplateProblem(file: file, limit: InputLimit.templateBytes.exceeded(by: size))])
        }
        let document: JSONValue
        do {
            document = try YAMLDocument.parse(yaml)
        } catch {
            throw TemplateLoadError(file: file, problems: [TemplateProblem(file: file, message: error.description)])
        }
        return try load(document: document, file: file)
    }

    /// Loads a template from JSON text (a stored definition, say); `file` names it in error messages.
    public func load(json: Data, file: String) throws(TemplateLoadError) -> TaskTemplate {
        guard json.count <= InputLimit.templateBytes.maximum else {
            throw TemplateLoadError(
                file: file, problems: [TemplateProblem(file: file, limit: InputLimit.templateBytes.exceeded(by: json.count))])
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(json, maxDepth: .templateNestingDepth)
        } catch let error as JSONValue.ParseError {
            throw TemplateLoadError(file: file, problems: [TemplateProblem(file: file, message: error.description, limit: error.limit)])
        } catch {
            throw TemplateLoadError(file: file, problems: [TemplateProblem(file: file, message: "\(error)")])
        }
        return try load(document: document, file: file)
    }

    /// Loads a template from an already parsed document (a stored definition, say).
    public func load(document: JSONValue, file: String) throws(TemplateLoadError) -> TaskTemplate {
        var builder = TemplateBuilder(file: file, environment: environment)
        if let template = builder.build(document), builder.problems.isEmpty {
            return template
        }
        throw TemplateLoadError(file: file, problems: builder.problems)
    }

    /// Loads a template from a YAML file.
    public func load(contentsOf url: URL) throws(TemplateLoadError) -> TaskTemplate {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw TemplateLoadError(
                file: url.path,
                problems: [TemplateProblem(file: url.path, message: "cannot read file: \(error.localizedDescription)")]
            )
        }
        return try load(yaml: text, file: url.path)
    }

    /// Loads every `*.yaml` / `*.yml` file in a directory, in name order, each to a template or its errors.
    public func loadDirectory(_ url: URL) throws -> [(file: String, result: Result<TaskTemplate, TemplateLoadError>)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .sorted()
        return names.map { name in
            let fileURL = url.appendingPathComponent(name)
            let result: Result<TaskTemplate, TemplateLoadError> = Result { () throws(TemplateLoadError) in
                try load(contentsOf: fileURL)
            }
            return (fileURL.path, result)
        }
    }
}

/// Turns a parsed YAML document into a ``TaskTemplate``, collecting problems on the way.
private struct TemplateBuilder {
    let file: String
    let environment: String?
    var problems: [TemplateProblem] = []

    static let topKeys: Set<String> = [
        "name", "namespace", "version", "description", "context_schema", "identity_strategy", "defaults", "steps",
        "environments",
    ]
    static let defaultsKeys: Set<String> = ["retry", "timeout_seconds"]
    static let retryKeys: Set<String> = ["retryable", "max_attempts", "backoff", "base_seconds", "max_seconds", "jitter"]
    static let stepKeys: Set<String> = [
        "name", "handler", "description", "depends_on", "retry", "timeout_seconds", "handler_config",
    ]
    static let environmentKeys: Set<String> = ["defaults", "steps"]

    init(file: String, environment: String?) {
        self.file = file
        self.environment = environment
    }

    mutating func problem(_ message: String, step: String? = nil) {
        problems.append(TemplateProblem(file: file, step: step, message: message))
    }

    mutating func checkKeys(_ fields: [String: JSONValue], allowed: Set<String>, in place: String, step: String? = nil) {
        for key in fields.keys.sorted() where !allowed.contains(key) {
            problem("unknown key '\(key)' in \(place) (allowed: \(allowed.sorted().joined(separator: ", ")))", step: step)
        }
    }

    mutating func limit(_ exceeded: InputLimitExceeded, step: String? = nil) {
        problems.append(TemplateProblem(file: file, step: step, limit: exceeded))
    }

    mutating func build(_ document: JSONValue) -> TaskTemplate? {
        guard var top = document.objectValue else {
            problem("a template must be a YAML mapping, got \(document.typeName)")
            return nil
        }
        let depth = document.nestingDepth
        if depth > InputLimit.templateNestingDepth.maximum {
            limit(InputLimit.templateNestingDepth.exceeded(by: depth))
            return nil
        }
        checkKeys(top, allowed: Self.topKeys, in: "template")
        if let environment, let overrides = top["environments"]?[environment] {
            top = applyOverrides(overrides, to: top)
        }

        let name = requiredString(top["name"], key: "name")
        let namespace = optionalString(top["namespace"], key: "namespace") ?? "default"
        var version = SemanticVersion(0, 1, 0)
        if let raw = top["version"] {
            if let text = raw.stringValue, let parsed = SemanticVersion(text) {
                version = parsed
            } else {
                problem("version \(raw.canonicalString) is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)")
            }
        }
        for (label, value) in [("name", name), ("namespace", namespace)] {
            if let value, !value.isEmpty, !value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
                problem("\(label) '\(value)' may only contain letters, digits, '_' and '-'")
            }
        }
        let description = optionalString(top["description"], key: "description")

        var schema: JSONSchema?
        if let raw = top["context_schema"], raw != .null {
            if let exceeded = raw.nestingLimitExceeded(place: "context_schema") {
                limit(exceeded)
            } else {
                do { schema = try JSONSchema(raw) } catch { problem("context_schema: \(error)") }
            }
        }
        var identity = IdentityStrategy.strict
        if let raw = top["identity_strategy"] {
            if let text = raw.stringValue, let parsed = IdentityStrategy(rawValue: text) {
                identity = parsed
            } else {
                let options = IdentityStrategy.allCases.map(\.rawValue).joined(separator: ", ")
                problem("identity_strategy must be one of \(options), got \(raw.canonicalString)")
            }
        }

        var defaultRetry = RetryPolicy()
        var defaultTimeout: Double = 300
        if let raw = top["defaults"] {
            if let defaults = raw.objectValue {
                checkKeys(defaults, allowed: Self.defaultsKeys, in: "defaults")
                if let retry = defaults["retry"] { defaultRetry = decodeRetry(retry, base: defaultRetry, step: nil) }
                if let timeout = defaults["timeout_seconds"] {
                    defaultTimeout = positiveNumber(timeout, key: "defaults.timeout_seconds", step: nil) ?? defaultTimeout
                }
            } else {
                problem("defaults must be a mapping, got \(raw.typeName)")
            }
        }

        guard let rawSteps = top["steps"] else {
            problem("a template needs a 'steps' list")
            return nil
        }
        guard let stepList = rawSteps.arrayValue, !stepList.isEmpty else {
            problem("'steps' must be a non-empty list")
            return nil
        }
        guard stepList.count <= InputLimit.templateSteps.maximum else {
            limit(InputLimit.templateSteps.exceeded(by: stepList.count))
            return nil
        }
        var steps: [StepTemplate] = []
        var seen = Set<String>()
        for (index, raw) in stepList.enumerated() {
            guard let step = decodeStep(raw, index: index, retry: defaultRetry, timeout: defaultTimeout) else { continue }
            if !seen.insert(step.name).inserted {
                problem("duplicate step name", step: step.name)
                continue
            }
            steps.append(step)
        }
        for step in steps {
            for dependency in step.dependsOn where !seen.contains(dependency) {
                problem("depends on unknown step '\(dependency)'", step: step.name)
            }
        }
        guard problems.isEmpty else { return nil }

        let graph: WorkflowGraph
        do {
            graph = try WorkflowGraph.build(steps.map { ($0.name, $0.dependsOn) })
        } catch {
            problem(error.description, step: error.code == .cycle ? nil : error.node)
            return nil
        }
        guard let name else { return nil }
        var definition = top
        definition.removeValue(forKey: "environments")
        definition["namespace"] = .string(namespace)
        definition["version"] = .string(version.description)
        return TaskTemplate(
            key: TemplateKey(namespace: namespace, name: name, version: version),
            description: description,
            contextSchema: schema,
            identityStrategy: identity,
            steps: steps,
            graph: graph,
            definition: .object(definition)
        )
    }

    /// Merges `environments.<env>` into the template: `defaults` key by key, steps by name.
    mutating func applyOverrides(_ overrides: JSONValue, to top: [String: JSONValue]) -> [String: JSONValue] {
        guard let fields = overrides.objectValue else {
            problem("environments.\(environment ?? "") must be a mapping")
            return top
        }
        checkKeys(fields, allowed: Self.environmentKeys, in: "environments.\(environment ?? "")")
        var merged = top
        if let defaults = fields["defaults"] {
            merged["defaults"] = Self.deepMerge(top["defaults"] ?? .object([:]), defaults)
        }
        if let stepOverrides = fields["steps"]?.arrayValue, var steps = top["steps"]?.arrayValue {
            for override in stepOverrides {
                guard let name = override["name"]?.stringValue else {
                    problem("a step override in environments.\(environment ?? "") needs a 'name'")
                    continue
                }
                guard let index = steps.firstIndex(where: { $0["name"]?.stringValue == name }) else {
                    problem("environments.\(environment ?? "") overrides unknown step", step: name)
                    continue
                }
                steps[index] = Self.deepMerge(steps[index], override)
            }
            merged["steps"] = .array(steps)
        }
        return merged
    }

    static func deepMerge(_ base: JSONValue, _ override: JSONValue) -> JSONValue {
        guard var result = base.objectValue, let changes = override.objectValue else { return override }
        for (key, value) in changes {
            result[key] = result[key].map { deepMerge($0, value) } ?? value
        }
        return .object(result)
    }

    mutating func decodeStep(_ raw: JSONValue, index: Int, retry: RetryPolicy, timeout: Double) -> StepTemplate? {
        guard let fields = raw.objectValue else {
            problem("steps[\(index)] must be a mapping, got \(raw.typeName)")
            return nil
        }
        guard let name = fields["name"]?.stringValue, !name.isEmpty else {
            problem("steps[\(index)] needs a non-empty 'name'")
            return nil
        }
        checkKeys(fields, allowed: Self.stepKeys, in: "step", step: name)
        var handler = ""
        switch fields["handler"] {
        case .string(let value)? where !value.isEmpty: handler = value
        case nil: problem("missing 'handler'", step: name)
        case let other?: problem("'handler' must be a non-empty string, got \(other.canonicalString)", step: name)
        }
        var dependsOn: [String] = []
        switch fields["depends_on"] {
        case nil, .null?: break
        case .string(let single)?: dependsOn = [single]
        case .array(let names)?:
            dependsOn = names.compactMap(\.stringValue)
            if dependsOn.count != names.count { problem("'depends_on' must list step names", step: name) }
        case let other?: problem("'depends_on' must be a list of step names, got \(other.typeName)", step: name)
        }
        let stepRetry = fields["retry"].map { decodeRetry($0, base: retry, step: name) } ?? retry
        let stepTimeout = fields["timeout_seconds"].flatMap { positiveNumber($0, key: "timeout_seconds", step: name) } ?? timeout
        let config = fields["handler_config"] ?? .object([:])
        if let exceeded = config.nestingLimitExceeded(place: "handler_config") { limit(exceeded, step: name) }
        return StepTemplate(
            name: name,
            handler: handler,
            description: fields["description"]?.stringValue,
            dependsOn: dependsOn,
            retry: stepRetry,
            timeoutSeconds: stepTimeout,
            handlerConfig: config == .null ? .object([:]) : config
        )
    }

    mutating func decodeRetry(_ raw: JSONValue, base: RetryPolicy, step: String?) -> RetryPolicy {
        guard let fields = raw.objectValue else {
            problem("'retry' must be a mapping, got \(raw.typeName)", step: step)
            return base
        }
        checkKeys(fields, allowed: Self.retryKeys, in: "retry", step: step)
        var policy = base
        if let value = fields["retryable"] {
            if let flag = value.boolValue { policy.retryable = flag } else {
                problem("'retry.retryable' must be true or false, got \(value.canonicalString)", step: step)
            }
        }
        if let value = fields["max_attempts"] {
            if let count = value.intValue, count >= 0, count <= 1_000 { policy.maxAttempts = Int(count) } else {
                problem("'retry.max_attempts' must be an integer from 0 to 1000, got \(value.canonicalString)", step: step)
            }
        }
        if let value = fields["backoff"], value.stringValue != "exponential" {
            problem("'retry.backoff' must be 'exponential', got \(value.canonicalString)", step: step)
        }
        if let value = fields["base_seconds"] {
            policy.backoff.baseSeconds = nonNegativeNumber(value, key: "retry.base_seconds", step: step) ?? policy.backoff.baseSeconds
        }
        if let value = fields["max_seconds"] {
            policy.backoff.maxSeconds = nonNegativeNumber(value, key: "retry.max_seconds", step: step) ?? policy.backoff.maxSeconds
        }
        if let value = fields["jitter"] {
            if let jitter = value.doubleValue, jitter >= 0, jitter < 1 { policy.backoff.jitter = jitter } else {
                problem("'retry.jitter' must be a fraction from 0 up to 1, got \(value.canonicalString)", step: step)
            }
        }
        return policy
    }

    /// A duration in seconds: `> 0`, at most ``StepTemplate/maxDurationSeconds``.
    mutating func positiveNumber(_ value: JSONValue, key: String, step: String?) -> Double? {
        if let number = value.doubleValue, number > 0, number <= StepTemplate.maxDurationSeconds { return number }
        problem(
            "'\(key)' must be a positive number of seconds up to \(Int(StepTemplate.maxDurationSeconds)) (365 days), got \(Self.show(value))",
            step: step)
        return nil
    }

    /// A duration in seconds: `>= 0`, at most ``StepTemplate/maxDurationSeconds``.
    mutating func nonNegativeNumber(_ value: JSONValue, key: String, step: String?) -> Double? {
        if let number = value.doubleValue, number >= 0, number <= StepTemplate.maxDurationSeconds { return number }
        problem(
            "'\(key)' must be a number of seconds from 0 to \(Int(StepTemplate.maxDurationSeconds)) (365 days), got \(Self.show(value))",
            step: step)
        return nil
    }

    /// A value for an error message; YAML's `.inf` and `.nan` have no JSON form.
    static func show(_ value: JSONValue) -> String {
        if case .double(let number) = value, !number.isFinite { return "\(number)" }
        return value.canonicalString
    }

    mutating func requiredString(_ value: JSONValue?, key: String) -> String? {
        guard let value else {
            problem("missing '\(key)'")
            return nil
        }
        guard let text = value.stringValue, !text.isEmpty else {
            problem("'\(key)' must be a non-empty string, got \(value.canonicalString)")
            return nil
        }
        return text
    }

    mutating func optionalString(_ value: JSONValue?, key: String) -> String? {
        guard let value, value != .null else { return nil }
        guard let text = value.stringValue else {
            problem("'\(key)' must be a string, got \(value.canonicalString)")
            return nil
        }
        return text
    }
}
