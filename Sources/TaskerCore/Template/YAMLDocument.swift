internal import Foundation
internal import Yams

/// Reads YAML text into a ``JSONValue`` tree.
///
/// Yams composes the node tree (libyaml refuses more than 1,000 nested levels, which keeps
/// that recursion bounded); the conversion to JSON is ours rather than Yams' `Constructor`,
/// which traps on some scalars (a sexagesimal integer such as `1:0:0:0:0:0:0:0:0:0:0:0`
/// overflows) and force-unwraps in others (`!!set`, `!!omap` with odd keys).
///
/// Aliases (`*name`) are refused before parsing, as Ruby's `YAML.safe_load` does: an alias
/// expands to a copy of its anchor, so a kilobyte of nested aliases ("billion laughs") can
/// stand for billions of values, and Yams hashes mapping keys in full, aliases included.
enum YAMLDocument {
    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ text: String) throws(ParseError) -> JSONValue {
        if let (line, alias) = firstAlias(in: text) {
            throw ParseError(description: "line \(line): '\(alias)' reads as a YAML alias; aliases are not allowed in templates (write the value out)")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ParseError(description: "malformed YAML: \(error)")
        }
        guard let root else { return .null }
        return try Converter.convert(root, path: "")
    }

    /// The first line (1-based) with something that libyaml could read as an alias, and that alias.
    ///
    /// Works on the raw text, without deciding where strings are (a mistake there could hide a
    /// real alias), so it errs on the side of refusing: any `*` followed by an anchor character
    /// (`A-Z a-z 0-9 _ -`) at the start of a line or after a blank, `[`, `{` or `,`, outside
    /// whole-line comments. `*/5 * * * *` and `a*b` pass; `*emphasis*` after a blank does not.
    static func firstAlias(in text: String) -> (line: Int, alias: String)? {
        let bytes = Array(text.utf8)
        guard bytes.contains(UInt8(ascii: "*")) else { return nil }
        func isAnchorCharacter(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        var line = 1
        var lineStart = true
        var comment = false
        var previous: UInt8 = 0x0A
        for (index, byte) in bytes.enumerated() {
            defer { previous = byte }
            // Line breaks: \n, \r, and the last byte of NEL, LS and PS (other bytes ending a
            // comment early only make the check stricter).
            if byte == 0x0A || byte == 0x0D || byte == 0x85 || byte == 0xA8 || byte == 0xA9 {
                if byte == 0x0A { line += 1 }
                lineStart = true
                comment = false
                continue
            }
            if comment { continue }
            if lineStart {
                if byte == 0x20 || byte == 0x09 || byte == 0xEF || byte == 0xBB || byte == 0xBF { continue }
                lineStart = false
                if byte == UInt8(ascii: "#") {
                    comment = true
                    continue
                }
            }
            guard byte == UInt8(ascii: "*"), index + 1 < bytes.count, isAnchorCharacter(bytes[index + 1]) else { continue }
            switch previous {
            case 0x0A, 0x0D, 0x85, 0xA8, 0xA9, 0x20, 0x09, UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","), 0xBF:
                var end = index + 1
                while end < bytes.count, isAnchorCharacter(bytes[end]), end - index < 40 { end += 1 }
                return (line, String(decoding: bytes[index..<end], as: UTF8.self))
            default:
                continue
            }
        }
        return nil
    }

    /// Node tree to JSON; recursion is bounded by libyaml's nesting limit.
    private enum Converter {
        static func convert(_ node: Node, path: String) throws(ParseError) -> JSONValue {
            switch node {
            case .scalar(let scalar):
                return Self.scalarValue(scalar, tag: node.tag.description)
            case .sequence(let sequence):
                var out: [JSONValue] = []
                out.reserveCapacity(sequence.count)
                for (index, element) in sequence.enumerated() {
                    out.append(try convert(element, path: "\(path)[\(index)]"))
                }
                return .array(out)
            case .mapping(let mapping):
                var out: [String: JSONValue] = [:]
                for (key, member) in mapping {
                    guard let name = Self.keyString(key) else {
                        throw ParseError(
                            description: "mapping key \(Self.describe(key)) at \(path.isEmpty ? "top level" : path) must be a string")
                    }
                    out[name] = try convert(member, path: path.isEmpty ? name : "\(path).\(name)")
                }
                return .object(out)
            case .alias:
                throw ParseError(description: "unsupported YAML alias at \(path.isEmpty ? "top level" : path)")
            }
        }

        /// A key must be a string scalar: quoted, or plain text that is not a number, boolean or null.
        static func keyString(_ node: Node) -> String? {
            guard case .scalar(let scalar) = node else { return nil }
            let tag = node.tag.description
            if tag == Tag.Name.str.rawValue || tag == Tag.Name.merge.rawValue || tag == Tag.Name.value.rawValue {
                return scalar.string
            }
            if case .string(let text) = scalarValue(scalar, tag: tag) { return text }
            return nil
        }

        static func describe(_ node: Node) -> String {
            switch node {
            case .scalar(let scalar): return scalar.string
            case .sequence: return "(a sequence)"
            case .mapping: return "(a mapping)"
            case .alias: return "(an alias)"
            }
        }

        /// A scalar by its resolved tag, as Yams' default constructor would read it, except that
        /// integers out of range stay strings instead of trapping.
        static func scalarValue(_ scalar: Node.Scalar, tag: String) -> JSONValue {
            switch tag {
            case Tag.Name.null.rawValue:
                if NSNull.construct(from: scalar) != nil { return .null }
            case Tag.Name.bool.rawValue:
                if let value = Bool.construct(from: scalar) { return .bool(value) }
            case Tag.Name.int.rawValue:
                if let value = integer(scalar) { return .int(value) }
            case Tag.Name.float.rawValue:
                if let value = Double.construct(from: scalar) { return .double(value) }
            case Tag.Name.timestamp.rawValue:
                if let value = Date.construct(from: scalar) { return .string(ISO8601DateFormatter().string(from: value)) }
            case Tag.Name.binary.rawValue:
                if let value = Data.construct(from: scalar) { return .string(value.base64EncodedString()) }
            default:
                break
            }
            return .string(scalar.string)
        }

        /// YAML 1.1 integers (`0x1F`, `0o17`, `0b101`, `1_000`, `1:30:00`) with overflow checks.
        static func integer(_ scalar: Node.Scalar) -> Int64? {
            guard scalar.style == .plain || scalar.style == .any else { return nil }
            let text = scalar.string.replacingOccurrences(of: "_", with: "")
            guard text.contains(":") else {
                return Int.construct(from: scalar).map { Int64($0) }
            }
            var digits = Substring(text)
            var sign: Int64 = 1
            if digits.hasPrefix("-") {
                sign = -1
                digits = digits.dropFirst()
            } else if digits.hasPrefix("+") {
                digits = digits.dropFirst()
            }
            var value: Int64 = 0
            for part in digits.split(separator: ":", omittingEmptySubsequences: false) {
                guard let number = Int64(part, radix: 10), number >= 0 else { return nil }
                let (shifted, overflow) = value.multipliedReportingOverflow(by: 60)
                guard !overflow else { return nil }
                let (sum, overflowAgain) = shifted.addingReportingOverflow(number)
                guard !overflowAgain else { return nil }
                value = sum
            }
            return sign * value
        }
    }
}
