public import Foundation
internal import TaskerCore

/// Valid inputs of every kind, with random contents: the starting points that mutations break.
public enum ValidInputs {
    /// Strings that have broken parsers before: escapes, control characters, every Unicode plane,
    /// right-to-left text, combining marks, BOMs, line and paragraph separators.
    static let awkwardStrings: [String] = [
        "", " ", "a", "examples", "square", "step_1", "0", "-", "_", "null", "true", "1.0.0", "1.0.0-rc.1",
        "quote\" and backslash\\", "line\nbreak", "tab\tand\rreturn", "\u{0}", "\u{1}\u{1F}", "\u{7F}",
        "é", "日本語", "🙂", "👩‍👩‍👧‍👦", "\u{202E}reversed", "e\u{301}\u{301}\u{301}", "\u{FEFF}bom", "\u{2028}\u{2029}",
        "\u{10FFFF}", "\u{FFFD}", "*alias", "&anchor", "!!int", "{", "[", "}", "]", ":", "- ", "? ", "#comment",
        "%YAML", "---", "...", "<<", "~", ".inf", ".nan", "0x1F", "1:30:00", "2026-11-27T14:03:12.345Z",
        String(repeating: "x", count: 300), String(repeating: "é", count: 100),
    ]

    static let names = ["examples", "square", "step_1", "start", "end", "a", "b-c", "x_y", "linear", "diamond", "default"]

    /// A random JSON value, at most `depth` levels deep.
    static func value(_ random: inout FuzzRandom, depth: Int) -> JSONValue {
        let kind = depth <= 0 ? random.int(0..<5) : random.int(0..<7)
        switch kind {
        case 0: return .null
        case 1: return .bool(random.chance(0.5))
        case 2:
            return .int(random.pick([0, 1, -1, 2, 42, 1_000_000_007, Int64.max, Int64.min, Int64(random.int(-1000...1000))]))
        case 3: return .double(random.pick([0.5, -0.0, 1e-300, 1e300, 3.141592653589793, 2.5e-8, Double(random.int(0...1000)) / 7]))
        case 4: return .string(string(&random))
        case 5:
            return .array((0..<random.size(max: 20)).map { _ in value(&random, depth: depth - 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<random.size(max: 12) { members[string(&random)] = value(&random, depth: depth - 1) }
            return .object(members)
        }
    }

    /// A random JSON value with plain ASCII strings only, which YAML's flow style can hold as is.
    static func plainValue(_ random: inout FuzzRandom, depth: Int) -> JSONValue {
        switch value(&random, depth: depth) {
        case .string: return .string(random.pick(names))
        case .array(let elements): return .array(elements.map { _ in plainValue(&random, depth: depth - 1) })
        case .object(let members):
            var plain: [String: JSONValue] = [:]
            for _ in members { plain[random.pick(names)] = plainValue(&random, depth: depth - 1) }
            return .object(plain)
        case let other: return other
        }
    }

    /// A random string: an awkward one, random scalars, or a mix.
    static func string(_ random: inout FuzzRandom) -> String {
        switch random.int(0..<4) {
        case 0, 1: return random.pick(awkwardStrings)
        case 2: return random.pick(names)
        default:
            var scalars = String.UnicodeScalarView()
            for _ in 0..<random.size(max: 40) {
                let plane = random.pick([0x20...0x7E, 0x0...0x1F, 0xA0...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF])
                if let scalar = Unicode.Scalar(UInt32(random.int(plane))) { scalars.append(scalar) }
            }
            return String(scalars)
        }
    }

    static func object(_ random: inout FuzzRandom, depth: Int) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for _ in 0..<random.size(max: 10) { members[string(&random)] = value(&random, depth: depth - 1) }
        if random.chance(0.5) { members["even_number"] = .int(Int64(random.int(1...1000) * 2)) }
        return .object(members)
    }

    /// A UUID from the seeded generator, so a seed always gives the same bytes.
    static func uuid(_ random: inout FuzzRandom) -> UUID {
        let a = random.next()
        let b = random.next()
        return withUnsafeBytes(of: (a, b)) { bytes in
            UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                        bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        }
    }

    static func date(_ random: inout FuzzRandom) -> Date {
        Date(timeIntervalSince1970: Double(random.int(0...4_000_000_000)) + Double(random.int(0...999)) / 1000)
    }

    /// A valid task request body.
    public static func taskRequest(_ random: inout FuzzRandom) -> Data {
        let request = TaskRequest(
            namespace: random.pick(names),
            name: random.pick(names),
            version: random.chance(0.5) ? SemanticVersion(random.int(0...3), random.int(0...20), random.int(0...9)) : nil,
            context: object(&random, depth: random.int(0...4)),
            initiator: random.chance(0.5) ? string(&random) : nil,
            sourceSystem: random.chance(0.3) ? string(&random) : nil,
            reason: random.chance(0.3) ? string(&random) : nil,
            tags: (0..<random.size(max: 5)).map { _ in string(&random) },
            idempotencyKey: random.chance(0.3) ? string(&random) : nil,
            priority: random.int(-5...5)
        )
        var document = request.json
        if random.chance(0.3), case .object(var fields) = document {
            fields["schema_version"] = 1
            document = .object(fields)
        }
        return document.canonicalData()
    }

    /// A valid step dispatch body, as a coordinator or finalizer writes it.
    public static func stepDispatch(_ random: inout FuzzRandom) -> Data {
        let dispatched = date(&random)
        let timeout = Double(random.pick([1, 30, 300, 3600, random.int(1...86_400)]))
        var parents: [String: JSONValue] = [:]
        for _ in 0..<random.size(max: 6) { parents[random.pick(names)] = value(&random, depth: random.int(0...3)) }
        let dispatch = StepDispatch(
            taskID: uuid(&random), stepID: uuid(&random), stepName: random.pick(names), handler: random.pick(names),
            namespace: random.pick(names), templateName: random.pick(names), templateVersion: "1.0.0",
            attempt: random.int(1...5), maxAttempts: random.int(0...5), context: object(&random, depth: random.int(0...4)),
            parentResults: parents, handlerConfig: object(&random, depth: random.int(0...3)), timeoutSeconds: timeout,
            deadline: dispatched.addingTimeInterval(timeout), dispatchedAt: dispatched)
        return (try? WireCoding.encode(dispatch)) ?? Data()
    }

    /// A valid step result body: `step.started`, `step.completed` or `step.failed`.
    public static func stepResult(_ random: inout FuzzRandom) -> Data {
        let occurred = date(&random)
        var message = StepResultMessage(
            kind: random.pick([.started, .completed, .failed]), taskID: uuid(&random), stepID: uuid(&random), stepName: random.pick(names),
            attempt: random.int(1...5), workerID: "host-\(random.int(1...9)):\(random.int(1...65535))", occurredAt: occurred)
        switch message.kind {
        case .completed:
            message.startedAt = occurred.addingTimeInterval(-1)
            message.results = value(&random, depth: random.int(0...4))
            message.durationMs = Double(random.int(0...100_000)) / 10
        case .failed:
            message.startedAt = random.chance(0.5) ? occurred.addingTimeInterval(-2) : nil
            message.durationMs = Double(random.int(0...100_000)) / 10
            message.errorMessage = string(&random)
            message.errorKind = random.pick(FailureKind.allCases)
            message.errorClass = random.chance(0.5) ? "StepTimeout" : string(&random)
            message.retryAfterSeconds = random.chance(0.3) ? Double(random.int(0...7200)) : nil
        default:
            break
        }
        return (try? WireCoding.encode(message)) ?? Data()
    }

    /// A valid results-queue body: one report alone, or a `step.results` batch of 2 to 6, some
    /// with a trace.
    public static func stepResults(_ random: inout FuzzRandom) -> Data {
        guard random.chance(0.7) else { return stepResult(&random) }
        var reports: [String] = []
        for _ in 0..<random.int(2...6) {
            var report = String(decoding: stepResult(&random), as: UTF8.self)
            if random.chance(0.5), report.hasSuffix("}") {
                report.removeLast()
                report += #","trace":{"traceparent":"00-\#(random.int(0...999_999))-01"}}"#
            }
            reports.append(report)
        }
        return Data(#"{"event":"step.results","results":[\#(reports.joined(separator: ","))],"schema_version":1}"#.utf8)
    }

    /// A valid template as YAML: a random DAG in block or flow style, with the optional sections.
    public static func templateYAML(_ random: inout FuzzRandom) -> String {
        let count = random.chance(0.02) ? random.int(50...300) : random.int(1...12)
        var yaml = "name: \(random.pick(["generated", "t_\(random.int(0...99))", "diamond"]))\n"
        if random.chance(0.8) { yaml += "namespace: \(random.pick(names))\n" }
        if random.chance(0.8) { yaml += "version: \(random.int(0...3)).\(random.int(0...9)).\(random.int(0...9))\n" }
        if random.chance(0.5) { yaml += "description: \(random.pick(["A generated workflow", "'quoted: text'", "\"double \\\" quoted\"", "|\n  block\n  text"]))\n" }
        if random.chance(0.4) { yaml += "identity_strategy: \(random.pick(["strict", "caller_provided", "always_unique"]))\n" }
        if random.chance(0.5) {
            yaml += "context_schema:\n  type: object\n  required: [even_number]\n  properties:\n    even_number: { type: integer, minimum: 2 }\n"
        }
        if random.chance(0.6) {
            yaml += "defaults:\n  retry: { max_attempts: \(random.int(0...10)), base_seconds: \(random.int(0...5)), max_seconds: 60 }\n"
            yaml += "  timeout_seconds: \(random.int(1...600))\n"
        }
        yaml += "steps:\n"
        for index in 0..<count {
            let parents = (0..<index).filter { _ in random.chance(min(0.5, 2.0 / Double(index + 1))) }.map { "s\($0)" }
            if random.chance(0.5) {
                yaml += "  - { name: s\(index), handler: square"
                if !parents.isEmpty { yaml += ", depends_on: [\(parents.joined(separator: ", "))]" }
                yaml += " }\n"
            } else {
                yaml += "  - name: s\(index)\n    handler: \(random.pick(["square", "Fetch", "x"]))\n"
                if !parents.isEmpty { yaml += "    depends_on:\n" + parents.map { "      - \($0)\n" }.joined() }
                if random.chance(0.3) { yaml += "    retry: { retryable: \(random.chance(0.5)), max_attempts: \(random.int(0...5)) }\n" }
                if random.chance(0.3) { yaml += "    timeout_seconds: \(random.pick(["30", "0.5", "1e3", "86400"]))\n" }
                if random.chance(0.4) { yaml += "    handler_config: \(plainValue(&random, depth: 3).canonicalString)\n" }
            }
        }
        if random.chance(0.3) {
            yaml += "environments:\n  test:\n    defaults:\n      retry: { base_seconds: 0.2 }\n    steps:\n      - { name: s0, timeout_seconds: 5 }\n"
        }
        return yaml
    }

    /// A valid template as JSON text (the stored form).
    public static func templateJSON(_ random: inout FuzzRandom) -> Data {
        let yaml = templateYAML(&random)
        guard let template = try? TemplateLoader().load(yaml: yaml, file: "generated") else { return Data(yaml.utf8) }
        return template.definition.canonicalData()
    }
}
