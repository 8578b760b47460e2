import Foundation
import Testing
import TaskerCore

@Suite struct JSONValueTests {
    @Test func canonicalFormSortsKeysAtEveryDepth() throws {
        let a = try JSONValue.parse(#"{"b": 1, "a": {"z": true, "y": [3, "x"]}}"#)
        let b = try JSONValue.parse(#"{"a": {"y": [3, "x"], "z": true}, "b": 1}"#)
        #expect(a.canonicalString == #"{"a":{"y":[3,"x"],"z":true},"b":1}"#)
        #expect(a.canonicalData() == b.canonicalData())
    }

    @Test func largeIntegersSurviveARoundTrip() throws {
        let value = try JSONValue.parse(#"{"n": 9007199254740993}"#)
        #expect(value["n"] == .int(9_007_199_254_740_993))
        let again = try JSONValue.parse(value.canonicalString)
        #expect(again == value)
    }

    @Test func fractionsStayDoubles() throws {
        let value = try JSONValue.parse("[1.5, 2, null, \"s\"]")
        #expect(value == [1.5, 2, nil, "s"])
        #expect(value.arrayValue?[0].intValue == nil)
    }

    @Test func stringsAreEscaped() {
        let value: JSONValue = ["k": "quote\" slash\\ line\n\u{01}"]
        #expect(value.canonicalString == #"{"k":"quote\" slash\\ line\n\u0001"}"#)
    }

    @Test func malformedJSONGivesAReadableError() {
        #expect {
            try JSONValue.parse("{not json")
        } throws: { error in
            "\(error)".hasPrefix("malformed JSON")
        }
    }
}
