internal import Foundation
internal import TaskerCore

/// A registered template's definition written back as YAML, for people to read.
///
/// The registry stores the definition as JSON (what was loaded from the YAML file, with the
/// environment applied), not the file's text, so this is the definition as it runs: keys in
/// the order a template file uses (`name`, `namespace`, `version`, …, `steps`; each step's
/// `name` and `handler` first), other keys sorted; flow style (`[a, b]`, `{ k: v }`) for short
/// scalar lists and maps, as the example templates are written.
enum TemplateYAML {
    static let keyOrder = [
        "name", "namespace", "version", "description", "identity_strategy", "handler", "depends_on", "context_schema", "defaults",
        "retry", "timeout_seconds", "steps",
    ]

    static func render(_ value: JSONValue) -> String {
        var lines: [String] = []
        emit(value, indent: 0, into: &lines)
        return lines.joined(separator: "\n") + "\n"
    }

    private static func emit(_ value: JSONValue, indent: Int, into lines: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .object(let members):
            for key in orderedKeys(members) {
                let member = members[key]!
                if let inline = flow(member) {
                    lines.append("\(pad)\(scalarKey(key)): \(inline)")
                } else {
                    lines.append("\(pad)\(scalarKey(key)):")
                    emit(member, indent: member.arrayValue != nil ? indent : indent + 2, into: &lines)
                }
            }
        case .array(let elements):
            for element in elements {
                if let inline = flow(element) {
                    lines.append("\(pad)- \(inline)")
                } else {
                    var nested: [String] = []
                    emit(element, indent: indent + 2, into: &nested)
                    if var first = nested.first {
                        first.replaceSubrange(first.startIndex..<first.index(first.startIndex, offsetBy: indent + 2), with: pad + "- ")
                        lines.append(first)
                        lines += nested.dropFirst()
                    }
                }
            }
        default:
            lines.append(pad + scalar(value))
        }
    }

    /// One line for scalars and for short lists and maps of scalars (and steps: maps whose
    /// members are scalars or lists of scalars); `nil` for what needs a block.
    private static func flow(_ value: JSONValue) -> String? {
        switch value {
        case .array(let elements):
            guard elements.allSatisfy(isScalar) else { return nil }
            let text = "[" + elements.map(scalar).joined(separator: ", ") + "]"
            return text.count <= 80 ? text : nil
        case .object(let members):
            if members.isEmpty { return "{}" }
            var parts: [String] = []
            for key in orderedKeys(members) {
                let member = members[key]!
                if isScalar(member) {
                    parts.append("\(scalarKey(key)): \(scalar(member))")
                } else if case .array(let elements) = member, elements.allSatisfy(isScalar) {
                    parts.append("\(scalarKey(key)): [" + elements.map(scalar).joined(separator: ", ") + "]")
                } else {
                    return nil
                }
            }
            let text = "{ " + parts.joined(separator: ", ") + " }"
            return text.count <= 100 ? text : nil
        default:
            return scalar(value)
        }
    }

    private static func isScalar(_ value: JSONValue) -> Bool {
        switch value {
        case .array, .object: false
        default: true
        }
    }

    private static func orderedKeys(_ members: [String: JSONValue]) -> [String] {
        members.keys.sorted { a, b in
            let ia = keyOrder.firstIndex(of: a) ?? keyOrder.count, ib = keyOrder.firstIndex(of: b) ?? keyOrder.count
            return ia != ib ? ia < ib : a < b
        }
    }

    private static func scalarKey(_ key: String) -> String { plainSafe(key) ? key : quoted(key) }

    static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .double(let number): number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) + ".0" : String(number)
        case .string(let text): plainSafe(text) ? text : quoted(text)
        case .array, .object: value.canonicalString
        }
    }

    /// Whether a string can be written unquoted and still read back as the same string.
    private static func plainSafe(_ text: String) -> Bool {
        guard !text.isEmpty, text.trimmingCharacters(in: .whitespaces) == text else { return false }
        if ["true", "false", "null", "yes", "no", "on", "off", "~"].contains(text.lowercased()) { return false }
        if Double(text) != nil { return false }
        if let first = text.first, "-?:,[]{}#&*!|>'\"%@`".contains(first) { return false }
        return !text.contains(": ") && !text.contains(" #") && !text.contains(where: { "\n\t,[]{}".contains($0) })
    }

    private static func quoted(_ text: String) -> String {
        JSONValue.string(text).canonicalString
    }
}
