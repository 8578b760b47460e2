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

    static func results(_ random: inout SplitMix64) -> JSONValue {
        JSONValue.object([
            "value": .int(Int64.random(in: -1_000...1_000_000, using: &random)),
            "ratio": .double(Double.random(in: 0...1, using: &random)),
            "tags": .array([.string("a"), .bool(Bool.random(using: &random)), .null]),
            "nested": ["k": ["deep": .string("é😀\n")]],
        ])
    }

    @Test func randomResultsAndDispatchesDecodeAlike() throws {
        var random = SplitMix64(seed: 99)
        for index in 0..<500 {
            let now = Date(timeIntervalSince1970: Double(Int64.random(in: 1_600_000_000_000_000...1_900_000_000_000_000, using: &random)) / 1e6)
            let kind: StepResultMessage.Kind = [.started, .completed, .failed][index % 3]
            let result = StepResultMessage(
                kind: kind, taskID: UUID(), stepID: UUID(), stepName: "step_\(index)", attempt: index % 4 + 1, workerID: "host:\(index)",
                occurredAt: now, startedAt: index % 2 == 0 ? now.addingTimeInterval(-0.25) : nil,
                results: kind == .completed ? Self.results(&random) : nil, durationMs: kind == .started ? nil : 1.5,
                errorMessage: kind == .failed ? "boom \"quoted\"" : nil, errorKind: kind == .failed ? .retryable : nil)
            let data = try WireCoding.encode(result)
            let tree = try #require(viaTree(StepResultMessage.self, data))
            #expect(tree == viaFoundation(StepResultMessage.self, data))
            #expect(tree == result || abs(tree.occurredAt.timeIntervalSince(result.occurredAt)) < 0.000_001)

            let dispatch = StepDispatch(
                taskID: UUID(), stepID: UUID(), stepName: "s\(index)", handler: "square", namespace: "ns", templateName: "t",
                templateVersion: "1.0.0", attempt: 1, maxAttempts: 3, context: Self.results(&random),
                parentResults: ["a": Self.results(&random)], handlerConfig: ["x": 1], timeoutSeconds: 30,
                deadline: now.addingTimeInterval(30), dispatchedAt: now)
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
