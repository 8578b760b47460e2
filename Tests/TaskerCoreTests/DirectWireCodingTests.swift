import Foundation
import Testing
import TaskerCore
import TaskerTestSupport

/// The hot messages build and read their JSON directly (`DirectWireEncodable`,
/// `DirectWireDecodable`): the same bytes and the same values as their `Codable` conformances
/// through ``JSONValueEncoder`` and ``JSONValueDecoder``.
@Suite struct DirectWireCodingTests {
    @Test func resultsDispatchesAndEventsEncodeToTheSameBytes() throws {
        var random = SplitMix64(seed: 7)
        for index in 0..<500 {
            let result = try SampleWireMessages.result(index, &random)
            #expect(try WireCoding.encode(result) == WireCoding.encodeThroughCodable(result))
            var retried = result
            retried.retryAfterSeconds = index % 5 == 0 ? 2.5 : nil
            retried.errorClass = index % 7 == 0 ? "Timeout" : nil
            #expect(try WireCoding.encode(retried) == WireCoding.encodeThroughCodable(retried))
            let dispatch = try SampleWireMessages.dispatch(index, &random)
            #expect(try WireCoding.encode(dispatch) == WireCoding.encodeThroughCodable(dispatch))
            let event = LifecycleEvent(
                event: index % 2 == 0 ? .stepCompleted : .taskRequestRejected, eventID: UUID(), occurredAt: result.occurredAt,
                taskID: index % 2 == 0 ? result.taskID : nil, stepID: index % 3 == 0 ? result.stepID : nil,
                stepName: index % 3 == 0 ? "s" : nil, attempt: index % 4 == 0 ? 2 : nil, maxAttempts: index % 4 == 0 ? 3 : nil,
                durationMs: index % 2 == 0 ? Double(index) / 3 : nil, results: result.results,
                errorMessage: result.errorMessage, errorKind: result.errorKind, errorClass: result.errorClass,
                details: index % 5 == 0 ? ["errors": ["a", "b"], "n": .int(Int64(index))] : nil)
            #expect(try WireCoding.encode(event) == WireCoding.encodeThroughCodable(event))
        }
    }

    @Test func resultsAndDispatchesDecodeToTheSameValues() throws {
        var random = SplitMix64(seed: 8)
        for index in 0..<500 {
            var result = try SampleWireMessages.result(index, &random)
            result.retryAfterSeconds = index % 5 == 0 ? 2.5 : nil
            let resultData = try WireCoding.encode(result)
            #expect(try WireCoding.decode(StepResultMessage.self, from: resultData)
                == WireCoding.decodeThroughCodable(StepResultMessage.self, from: resultData))
            let dispatchData = try WireCoding.encode(try SampleWireMessages.dispatch(index, &random))
            #expect(try WireCoding.decode(StepDispatch.self, from: dispatchData)
                == WireCoding.decodeThroughCodable(StepDispatch.self, from: dispatchData))
        }
    }

    /// Bodies in other shapes than the encoder writes (numbers for dates and integers, nulls for
    /// absent members, unknown members) read the same either way.
    @Test func otherWellFormedShapesDecodeToTheSameValues() throws {
        let base = try #require(try JSONValue.parse(try WireCoding.encode(StepResultMessage(
            kind: .failed, taskID: UUID(), stepID: UUID(), stepName: "a", attempt: 2, workerID: "w", occurredAt: Date(),
            errorMessage: "boom", errorKind: .retryable))).objectValue)
        let variants: [(inout [String: JSONValue]) -> Void] = [
            { $0["occurred_at"] = .double(1_700_000_000.25) },
            { $0["attempt"] = .double(2) },
            { $0["started_at"] = .null; $0["results"] = .null; $0["duration_ms"] = .null },
            { $0["duration_ms"] = .int(12) },
            { $0["unknown_member"] = "ignored" },
            { $0["task_id"] = .string(UUID().uuidString.lowercased()) },
        ]
        for change in variants {
            var members = base
            change(&members)
            let data = JSONValue.object(members).canonicalData()
            #expect(try WireCoding.decode(StepResultMessage.self, from: data)
                == WireCoding.decodeThroughCodable(StepResultMessage.self, from: data))
        }
    }
}
