internal import Foundation
internal import TaskerCore

/// Breaks valid inputs in ways that matter to a decoder: at the byte level (flips,
/// insertions, deletions, truncation, splices, format tokens), at the JSON level (a value
/// swapped for one of the wrong type, a huge or unrepresentable number, a long or unusual
/// string, deep nesting, a missing or unknown key) and at the YAML line level (lines
/// repeated, dropped or re-indented, values swapped for YAML-specific tokens).
public enum Mutator {
    /// Tokens worth inserting into JSON text.
    static let jsonTokens: [String] = [
        "{", "}", "[", "]", "\"", ",", ":", "null", "true", "false", "-", "0", "-0", "1e400", "-1e400", "1e-400",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "123456789012345678901234567890", "0.1e1", "1E+2", "1.7976931348623157e308", "4.9e-324", "01", "+1", ".5", "NaN",
        "Infinity", "\\u0000", "\\ud800", "\\udc00\\ud800", "\\uZZZZ", "\\", "\u{0}", "\u{FEFF}", "\u{10FFFF}", "\"\":\"\"",
        "{\"\":{}}", "[[],[[]]]", "\"2026-11-27T14:03:12.345Z\"", "\"2026-13-45T25:61:61Z\"", "1e20", "-62135596801",
        "253402300800", "\"schema_version\":2", "\"extra\":1",
    ]

    /// Tokens worth inserting into YAML text.
    static let yamlTokens: [String] = [
        "*a", "&a ", "&a [x, *a]", "!!int ", "!!str ", "!!float ", "!!binary ", "!!set ", "!!omap ", "!!timestamp ",
        "!!null ", "!<tag:yaml.org,2002:int> ", "!custom ", "? ", "- ", ": ", "|", ">", "|-", ">+2", "---\n", "...\n",
        "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", ".inf", "-.inf", ".nan", "~", "<<: ", "1:0:0:0:0:0:0:0:0:0:0:0",
        "999999999999999999:59", "-1:00:00", "0x7fffffffffffffffff", "0b", "0o78", "1_000", "190:20:30.15", "2001-12-14t21:59:43.10-05:00",
        "2001-99-99", "yes", "No", "on", "\t", "\r", "\r\n", "\u{2028}", "\u{85}", "\u{FEFF}", "#", " #", "\"", "'", "\\", "{", "}",
        "[", "]", ",", "  ", "\n  ", "\n- ", "=", "@", "`", "%", "&", "*", "!",
    ]

    /// One mutated input made from `seed` (and sometimes `other`, for splices).
    static func mutateBytes(_ seed: Data, other: Data, tokens: [String], random: inout FuzzRandom) -> Data {
        var bytes = [UInt8](seed)
        for _ in 0..<random.int(1...6) {
            switch random.int(0..<10) {
            case 0 where !bytes.isEmpty:
                let index = random.int(0..<bytes.count)
                bytes[index] ^= UInt8(1 << random.int(0..<8))
            case 1 where !bytes.isEmpty:
                bytes[random.int(0..<bytes.count)] = UInt8(truncatingIfNeeded: random.next())
            case 2:
                let token = Array(random.pick(tokens).utf8)
                bytes.insert(contentsOf: token, at: random.int(0...bytes.count))
            case 3 where !bytes.isEmpty:
                let start = random.int(0..<bytes.count)
                let end = min(bytes.count, start + random.size(max: 64))
                bytes.removeSubrange(start..<end)
            case 4 where !bytes.isEmpty:
                bytes.removeSubrange(random.int(0..<bytes.count)...)
            case 5 where !bytes.isEmpty:
                let start = random.int(0..<bytes.count)
                let end = min(bytes.count, start + random.size(max: 128))
                let chunk = Array(bytes[start..<end])
                for _ in 0..<random.size(max: 16) { bytes.insert(contentsOf: chunk, at: min(bytes.count, end)) }
            case 6 where !other.isEmpty:
                let cut = random.int(0...bytes.count)
                let otherBytes = [UInt8](other)
                let from = random.int(0..<otherBytes.count)
                bytes = Array(bytes[..<cut]) + Array(otherBytes[from...])
            case 7:
                let random8 = (0..<random.size(max: 16)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                bytes.insert(contentsOf: random8, at: random.int(0...bytes.count))
            case 8 where !bytes.isEmpty:
                // Replace a digit run with an extreme number.
                let index = random.int(0..<bytes.count)
                if let digit = bytes[index...].firstIndex(where: { $0 >= 0x30 && $0 <= 0x39 }) {
                    var end = digit
                    while end < bytes.count, bytes[end] >= 0x30 && bytes[end] <= 0x39 { end += 1 }
                    let number = random.pick(["1e400", "99999999999999999999", "-1", "0", "1e300", "4.9e-324", "9223372036854775808", "1:0:0:0:0:0:0:0:0:0:0:0"])
                    bytes.replaceSubrange(digit..<end, with: Array(number.utf8))
                }
            default:
                let token = Array(random.pick(tokens).utf8)
                if !bytes.isEmpty {
                    let index = random.int(0..<bytes.count)
                    bytes.replaceSubrange(index..<min(bytes.count, index + token.count), with: token)
                }
            }
        }
        return Data(bytes)
    }

    /// Text nested `depth` levels deep, as JSON (`[[[…]]]`, `{"a":{"a":…}}` or a mix).
    static func deepJSON(depth: Int, random: inout FuzzRandom) -> String {
        switch random.int(0..<3) {
        case 0: return String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        case 1: return String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)
        default:
            var open = ""
            var close = ""
            for level in 0..<depth {
                if level % 2 == 0 {
                    open += "[1,"
                    close = "]" + close
                } else {
                    open += "{\"k\":"
                    close = "}" + close
                }
            }
            return open + "0" + close
        }
    }

    /// A nesting depth near one of the limits that matter.
    static func interestingDepth(_ random: inout FuzzRandom) -> Int {
        let limit = InputLimit.nestingDepth.maximum
        return random.pick([
            limit - 1, limit, limit + 1, limit + 2, limit + 3, limit + 8, 100, 200, 511, 512, 513, 999, 1000, 1001, 5000,
            random.int(1...300), random.int(1...20_000),
        ])
    }

    /// A JSON document with one value replaced by something hostile.
    static func mutateJSON(_ seed: Data, random: inout FuzzRandom) -> Data {
        guard let document = try? JSONValue.parse(seed) else { return seed }
        let marker = "\u{1}FUZZ\u{1}"
        let replacement: String
        var mutated: JSONValue
        switch random.int(0..<8) {
        case 0:
            replacement = deepJSON(depth: interestingDepth(&random), random: &random)
        case 1:
            replacement = random.pick(jsonTokens.filter { $0.first?.isNumber == true || $0.first == "-" })
        case 2:
            replacement = JSONValue.string(String(repeating: ValidInputs.string(&random), count: random.size(max: 200))).canonicalString
        case 3:
            replacement = random.pick([
                "null", "true", "\"\"", "[]", "{}", "\"1\"", "1.5", "-1", "0", "[null]", "{\"\":null}", "\"not-a-uuid\"",
                "\"2026-11-27\"", "\"yesterday\"", "1e20", "-62135596801", "253402300800", "\"step.unknown\"", "\"timeout\"",
            ])
        case 4:
            let count = random.pick([10, 100, 1_000, random.chance(0.1) ? 20_000 : 100])
            replacement = "[" + Array(repeating: random.pick(["0", "null", "\"x\"", "{}", "[]"]), count: count).joined(separator: ",") + "]"
        default:
            replacement = ValidInputs.value(&random, depth: random.int(0...6)).canonicalString
        }
        mutated = replaceRandomValue(in: document, with: .string(marker), random: &random)
        if random.chance(0.3), case .object(var fields) = mutated {
            // Add an unknown key, or drop a known one.
            if random.chance(0.5) {
                fields[ValidInputs.string(&random)] = .int(1)
            } else if let key = fields.keys.sorted().randomElement(using: &random) {
                fields.removeValue(forKey: key)
            }
            mutated = .object(fields)
        }
        let text = mutated.canonicalString.replacingOccurrences(of: JSONValue.string(marker).canonicalString, with: replacement)
        return Data(text.utf8)
    }

    /// `value` with one of its nodes (any depth, or the whole) replaced by `replacement`.
    static func replaceRandomValue(in value: JSONValue, with replacement: JSONValue, random: inout FuzzRandom) -> JSONValue {
        switch value {
        case .object(var members) where !members.isEmpty && random.chance(0.85):
            let key = members.keys.sorted()[random.int(0..<members.count)]
            members[key] = replaceRandomValue(in: members[key]!, with: replacement, random: &random)
            return .object(members)
        case .array(var elements) where !elements.isEmpty && random.chance(0.85):
            let index = random.int(0..<elements.count)
            elements[index] = replaceRandomValue(in: elements[index], with: replacement, random: &random)
            return .array(elements)
        default:
            return replacement
        }
    }

    /// YAML text with lines repeated, dropped, swapped, re-indented, or a value replaced by a token.
    static func mutateYAML(_ seed: String, random: inout FuzzRandom) -> String {
        var lines = seed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return seed }
        for _ in 0..<random.int(1...4) {
            let index = random.int(0..<lines.count)
            switch random.int(0..<9) {
            case 0: lines.insert(lines[index], at: index)
            case 1 where lines.count > 1: lines.remove(at: index)
            case 2: lines.swapAt(index, random.int(0..<lines.count))
            case 3: lines[index] = String(repeating: " ", count: random.int(1...4)) + lines[index]
            case 4: lines[index] = String(lines[index].drop(while: { $0 == " " }))
            case 5:
                if let colon = lines[index].range(of: ": ") {
                    lines[index] = String(lines[index][..<colon.upperBound]) + random.pick(yamlTokens) + random.pick(["", "x", "1", "[]", "{}"])
                }
            case 6:
                // A deep value, in flow or block style.
                let depth = interestingDepth(&random)
                let deep = random.chance(0.5)
                    ? deepJSON(depth: min(depth, 20_000), random: &random)
                    : (0..<min(depth, 1_100)).map { String(repeating: " ", count: $0) + "- " }.joined(separator: "\n") + "x"
                lines.insert("    handler_config: " + (deep.contains("\n") ? "\n" : "") + deep, at: index)
            case 7:
                lines.insert(random.pick([
                    "anchors: &a [1, 2]", "again: *a", "<<: {x: 1}", "? complex\n: key", "? [a, b]\n: seq key", "dup: 1\ndup: 2",
                    "1: integer key", "null: x", "[a]: flow key", "{a: 1}: map key", "!!set {a, b}", "!!omap [a: 1]",
                    "--- second document", "  - loose item", "\ttabbed: 1", "key: |\n  block\n   text", "key: >-\n  folded",
                    "key: \"unterminated", "key: 'it''s'", "timeout_seconds: 1e300", "timeout_seconds: .inf",
                    "timeout_seconds: 1:0:0:0:0:0:0:0:0:0:0:0", "max_attempts: 0x7fffffffffffffffff", "version: 01.0.0",
                ]), at: index)
            default:
                lines[index] = String(decoding: mutateBytes(Data(lines[index].utf8), other: Data(), tokens: yamlTokens, random: &random), as: UTF8.self)
            }
        }
        return lines.joined(separator: "\n")
    }
}
