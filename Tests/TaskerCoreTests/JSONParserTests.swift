import Foundation
import Testing
import TaskerCore
import TaskerTestSupport

/// ``JSONValue/parse(_:)-(Data)`` (the one-pass parser) against the path it replaced: Foundation's
/// `JSONDecoder` building a ``JSONValue`` through its `Decodable` conformance. Both must accept
/// and refuse the same texts and give the same values.
@Suite struct JSONParserTests {
    /// The old path: `JSONDecoder` and `JSONValue.init(from:)`.
    func viaFoundation(_ data: Data) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: data)
    }

    func viaParser(_ data: Data) -> JSONValue? {
        try? JSONValue.parse(data)
    }

    func expectSame(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let data = Data(text.utf8)
        #expect(viaParser(data) == viaFoundation(data), "\(text)", sourceLocation: sourceLocation)
    }

    static let tricky: [String] = [
        // numbers: integers, exact doubles that become integers, doubles, overflow, malformed
        "0", "-0", "-0.0", "1.0", "1e2", "1E2", "1e+2", "100e-2", "1.25e1", "2.5", "0.1", "1e18", "1e19", "0e0",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "9.223372036854775807e18", "-9223372036854775808.0", "12345678901234567890.0", "123456789012345678901234567890",
        "1E400", "-1e400", "1e-400", "4.9e-324", "1e308", "1.7976931348623157e309", "1.5e300",
        "01", "-01", "1.", ".5", "+1", "-", "--1", "1e", "1e+", "0x10", "1.5.2", "[-]", "[1e2]", "{\"k\": 3.0}",
        // literals and structure
        "true", "false", "null", "tru", "nul", "true false", "NaN", "Infinity", "-Infinity", "", " ", "  1  ", "1 2",
        "[]", "{}", "[1,2,]", "{\"a\":1,}", "[,]", "[1,,2]", "{,}", "{\"a\" 1}", "{1:2}", "[1 2]", "{\"a\":}", "[", "{", "]",
        "{\"a\":1,\"a\":2}", "{\"a\":{\"b\":[1,{\"c\":null}]}}", "[[[[]]]]", "\t[\n1\r,\r\n2 ]\n",
        // strings and escapes
        "\"\"", "\"abc\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u00e9\\u0041\"", "\"\\ud83d\\ude00\"", "\"\\uD83D\\uDE00\"",
        "\"\\ud800\"", "\"\\udc00x\"", "\"\\ud800\\u0041\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\x\"", "\"\\u0000\"",
        "\"a\tb\"", "\"a\u{01}b\"", "\"\u{7F}\"", "\"é ü 😀\"", "\"unterminated", "\"a\\", "{\"k\\u00e9y\": \"v\"}",
    ]

    @Test(arguments: tricky)
    func acceptsAndRefusesLikeFoundation(text: String) {
        expectSame(text)
    }

    @Test func invalidUTF8IsRefusedByBoth() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0xEF, 0xBB, 0xBF, 0x31]] {
            let data = Data(bytes)
            #expect(viaParser(data) == viaFoundation(data), "\(bytes)")
        }
    }

    @Test func randomDocumentsParseToWhatFoundationBuilds() throws {
        var random = SplitMix64(seed: 20_261_130)
        for _ in 0..<3_000 {
            let text = RandomJSON.text(depth: 0, using: &random)
            expectSame(text)
            #expect(viaParser(Data(text.utf8)) != nil, "\(text)")
        }
    }

    @Test func mutatedDocumentsAreAcceptedOrRefusedLikeFoundation() {
        var random = SplitMix64(seed: 7)
        let alphabet = Array("{}[]\",:\\-+.eE0123456789 tfnu\u{01}é".utf8)
        for _ in 0..<3_000 {
            var bytes = Array(RandomJSON.text(depth: 0, using: &random).utf8)
            for _ in 0..<Int.random(in: 1...3, using: &random) where !bytes.isEmpty {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes.remove(at: index)
                case 1: bytes.insert(alphabet.randomElement(using: &random)!, at: index)
                default: bytes[index] = alphabet.randomElement(using: &random)!
                }
            }
            let data = Data(bytes)
            #expect(viaParser(data) == viaFoundation(data), "\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test func errorsNameTheProblemAndWhere() {
        #expect { try JSONValue.parse("{\"a\": tru}") } throws: { error in
            "\(error)" == "malformed JSON: unexpected 't' at byte 6"
        }
        #expect { try JSONValue.parse("[1, 2") } throws: { error in
            "\(error)" == "malformed JSON: unexpected end of text in an array at byte 5"
        }
        #expect { try JSONValue.parse("\"\\ud800\"") } throws: { error in
            "\(error)".hasPrefix("malformed JSON: unpaired surrogate \\ud800")
        }
    }
}

/// Random JSON text: every kind of value, numbers in several spellings, escapes, whitespace.
enum RandomJSON {
    static func text(depth: Int, using random: inout SplitMix64) -> String {
        let space = [" ", "", "\n", "\t", "  "]
        func ws() -> String { space.randomElement(using: &random)! }
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &random) {
        case 0: return ["true", "false", "null"].randomElement(using: &random)!
        case 1: return number(using: &random)
        case 2, 3: return string(using: &random)
        case 4: return number(using: &random)
        case 5:
            let count = Int.random(in: 0...4, using: &random)
            let elements = (0..<count).map { _ in ws() + text(depth: depth + 1, using: &random) + ws() }
            return "[" + elements.joined(separator: ",") + "]"
        default:
            let count = Int.random(in: 0...4, using: &random)
            let members = (0..<count).map { _ in
                ws() + string(using: &random) + ws() + ":" + ws() + text(depth: depth + 1, using: &random) + ws()
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    static func number(using random: inout SplitMix64) -> String {
        let sign = Bool.random(using: &random) ? "-" : ""
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return sign + String(Int64.random(in: 0...Int64.max, using: &random))
        case 1: return sign + String(Int.random(in: 0...1_000, using: &random))
        case 2: return sign + String(Int.random(in: 0...999, using: &random)) + "." + String(Int.random(in: 0...999, using: &random))
        case 3: return sign + String(Int.random(in: 1...9, using: &random)) + ["e", "E", "e+", "e-"].randomElement(using: &random)!
            + String(Int.random(in: 0...30, using: &random))
        case 4: return sign + "\(Double.random(in: 0...1e6, using: &random))"
        default: return sign + String(UInt64.random(in: UInt64(Int64.max)...UInt64.max, using: &random))
        }
    }

    static func string(using random: inout SplitMix64) -> String {
        let pieces = ["a", "Z", "key", " ", "é", "😀", "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\ud83d\\ude00", "\\t", "\\u0000", "_"]
        let count = Int.random(in: 0...5, using: &random)
        return "\"" + (0..<count).map { _ in pieces.randomElement(using: &random)! }.joined() + "\""
    }
}
