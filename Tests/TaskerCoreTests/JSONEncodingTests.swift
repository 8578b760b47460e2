import Foundation
import Testing
import TaskerCore
import TaskerTestSupport

/// ``WireCoding/encode(_:)`` (``JSONValueEncoder`` and the canonical writer) against the paths it
/// replaced: `JSONEncoder` for message bodies and the string-based canonical writer.
@Suite struct JSONEncodingTests {
    @Test func messagesEncodeToWhatJSONEncoderWrote() throws {
        var random = SplitMix64(seed: 11)
        for index in 0..<500 {
            let result = try SampleWireMessages.result(index, &random)
            let dispatch = try SampleWireMessages.dispatch(index, &random)
            try expectSameJSON(result)
            try expectSameJSON(dispatch)
            // And the tree path reads back what it wrote.
            #expect(try WireCoding.decode(StepDispatch.self, from: try WireCoding.encode(dispatch)) == WireCoding.decode(
                StepDispatch.self, from: try WireCoding.encoder().encode(dispatch)))
        }
    }

    func expectSameJSON<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let fast = try JSONValue.parse(try WireCoding.encode(value))
        let foundation = try JSONValue.parse(try WireCoding.encoder().encode(value))
        #expect(fast == foundation, sourceLocation: sourceLocation)
    }

    @Test func nonFiniteNumbersAreRefusedWithTheirPath() {
        struct Reading: Encodable { var values: [String: Double] }
        #expect {
            try WireCoding.encode(Reading(values: ["ratio": .nan]))
        } throws: { error in
            guard case EncodingError.invalidValue(_, let context) = error else { return false }
            return context.codingPath.map(\.stringValue) == ["values", "ratio"]
        }
    }

    @Test func nestedContainersAndSuperEncodersAreKept() throws {
        struct Base: Encodable {
            var id = 1
        }
        struct Derived: Encodable {
            enum Keys: String, CodingKey { case name, nested, list, base }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                try container.encode("d", forKey: .name)
                var nested = container.nestedContainer(keyedBy: Keys.self, forKey: .nested)
                try nested.encode(UUID(uuidString: "00000000-0000-0000-0000-0000000000AB")!, forKey: .name)
                var list = container.nestedUnkeyedContainer(forKey: .list)
                try list.encode(1)
                try list.encodeNil()
                var inner = list.nestedContainer(keyedBy: Keys.self)
                try inner.encode(true, forKey: .name)
                try Base().encode(to: container.superEncoder(forKey: .base))
                try Base().encode(to: container.superEncoder())
            }
        }
        let value = try JSONValueEncoder().encode(Derived())
        #expect(value == [
            "name": "d", "nested": ["name": "00000000-0000-0000-0000-0000000000AB"], "list": [1, nil, ["name": true]],
            "base": ["id": 1], "super": ["id": 1],
        ])
        #expect(value == (try JSONValue.parse(try JSONEncoder().encode(Derived()))))
    }

    @Test func uuidHexFormsAgreeWithFoundation() {
        for _ in 0..<1_000 {
            let id = UUID()
            #expect(id.uppercaseHexString == id.uuidString)
            #expect(UUID(hexString: id.uuidString) == id)
            #expect(UUID(hexString: id.uuidString.lowercased()) == id)
        }
        for text in ["", "not-a-uuid", "00000000-0000-0000-0000-00000000000", "00000000-0000-0000-0000-0000000000000",
                     "00000000_0000-0000-0000-000000000000", "0000000g-0000-0000-0000-000000000000", "{00000000-0000-0000-0000-0000000000}"] {
            #expect(UUID(hexString: text) == nil, "\(text)")
            #expect(UUID(uuidString: text) == nil, "\(text)")
        }
    }

    @Test func canonicalBytesAreWhatTheStringWriterWrote() throws {
        var random = SplitMix64(seed: 5)
        var values: [JSONValue] = [
            ["k": "quote\" slash\\ line\n\u{01}\u{1F}\t\r é 😀 /"], .double(2.0), .double(1e15), .double(0.1), .double(-1.5e300),
            .double(.nan), .int(.min), [:], [], ["b": 1, "a": ["z": nil, "y": [true, false]], "A": "x", "é": 1, "e": 2],
        ]
        for _ in 0..<2_000 { values.append(try JSONValue.parse(RandomJSON.text(depth: 0, using: &random))) }
        for value in values {
            #expect(value.canonicalString == ReferenceCanonicalWriter.string(value), "\(value)")
        }
    }
}

/// The string-based canonical writer the byte writer replaced, kept as the reference: identity
/// hashes are SHA-256 of canonical JSON, so the bytes must not change.
enum ReferenceCanonicalWriter {
    static func string(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    static func write(_ value: JSONValue, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .double(let value):
            if value.isFinite, value.rounded() == value, abs(value) < 1e15 {
                out += String(Int64(value))
            } else if value.isFinite {
                out += "\(value)"
            } else {
                out += "null"
            }
        case .string(let value): writeString(value, into: &out)
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                write(element, into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                writeString(key, into: &out)
                out += ":"
                write(members[key]!, into: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ value: String, into out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let s where s.value < 0x20:
                let hex = String(s.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
