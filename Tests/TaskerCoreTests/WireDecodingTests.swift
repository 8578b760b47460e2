import Foundation
import Testing
import TaskerCore
import TaskerTestSupport

/// ``WireCoding/decode(_:from:)`` (``JSONParser`` and ``JSONValueDecoder``) against
/// `JSONDecoder` with the same date handling: the same messages, the same refusals.
@Suite struct WireDecodingTests {
    func viaFoundation<T: Decodable>(_ type: T.Type, _ data: Data) -> T? {
        try? WireCoding.decoder().decode(type, from: data)
    }

    func viaTree<T: Decodable>(_ type: T.Type, _ data: Data) -> T? {
        try? WireCoding.decode(type, from: data)
    }

    @Test func randomResultsAndDispatchesDecodeAlike() throws {
        var random = SplitMix64(seed: 99)
        for index in 0..<500 {
            let result = try SampleWireMessages.result(index, &random)
            let data = try WireCoding.encode(result)
            let tree = try #require(viaTree(StepResultMessage.self, data))
            #expect(tree == viaFoundation(StepResultMessage.self, data))
            // The same message, its dates to the microsecond the wire carries.
            #expect(abs(tree.occurredAt.timeIntervalSince(result.occurredAt)) < 0.000_001)
            #expect(abs((tree.startedAt ?? .distantPast).timeIntervalSince(result.startedAt ?? .distantPast)) < 0.000_001)
            var expected = result
            expected.occurredAt = tree.occurredAt
            expected.startedAt = tree.startedAt
            // `"results": null` reads back as no results, as it did with JSONDecoder.
            if expected.results == .null { expected.results = nil }
            #expect(tree == expected)

            let dispatch = try SampleWireMessages.dispatch(index, &random)
            let dispatchData = try WireCoding.encode(dispatch)
            let decoded = try #require(viaTree(StepDispatch.self, dispatchData))
            #expect(decoded == viaFoundation(StepDispatch.self, dispatchData))
            #expect(decoded.context == dispatch.context && decoded.parentResults == dispatch.parentResults)
        }
    }

    @Test func brokenMessagesAreRefusedWithThePathAndTheProblem() throws {
        let valid = try JSONValue.parse(try WireCoding.encode(StepResultMessage(
            kind: .completed, taskID: UUID(), stepID: UUID(), stepName: "a", attempt: 1, workerID: "w", occurredAt: Date(),
            results: ["v": 1], durationMs: 1)))
        func broken(_ change: (inout [String: JSONValue]) -> Void) throws -> Data {
            var members = try #require(valid.objectValue)
            change(&members)
            return JSONValue.object(members).canonicalData()
        }
        let cases: [(Data, String)] = [
            (try broken { $0["task_id"] = nil }, "No value associated with key task_id"),
            (try broken { $0["attempt"] = "one" }, "attempt: Expected to decode Int but found string instead."),
            (try broken { $0["attempt"] = 1.5 }, "attempt: Parsed JSON number <1.5> does not fit in Int."),
            (try broken { $0["step_name"] = nil; $0["step_name"] = .null }, "step_name: Cannot get value of type String -- found null value instead"),
            (try broken { $0["occurred_at"] = "yesterday" }, "occurred_at: 'yesterday' is not an ISO 8601 date"),
            (try broken { $0["task_id"] = "not-a-uuid" }, "task_id"),
            (Data("{\"kind\": ".utf8), "malformed JSON: unexpected end of text at byte 9"),
        ]
        for (data, expected) in cases {
            #expect(viaFoundation(StepResultMessage.self, data) == nil)
            #expect {
                try WireCoding.decode(StepResultMessage.self, from: data)
            } throws: { error in
                "\(error)".contains(expected)
            }
        }
    }
}
