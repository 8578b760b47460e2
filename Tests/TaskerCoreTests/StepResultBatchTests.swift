import Foundation
import Testing
import TaskerCore
import TaskerTestSupport

/// ``StepResultBatch``: a `step.results` body carries each report as it would be sent alone
/// (plus its trace), a single report's body still reads as one entry, and a bad batch is refused
/// as a whole with the entry named.
@Suite struct StepResultBatchTests {
    func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    @Test func aBatchReadsBackAsItsReportsInOrder() throws {
        var random = SplitMix64(seed: 7)
        let entries = try (0..<40).map { index in
            let trace = index.isMultiple(of: 3) ? [:] : ["traceparent": "00-\(index)-01", "tracestate": "k=\(index)"]
            return StepResultBatch.Entry(try SampleWireMessages.result(index, &random), trace: trace)
        }
        let body = try StepResultBatch.encode(entries)
        #expect(text(body).hasPrefix(#"{"event":"step.results","results":[{"#))
        let decoded = try StepResultBatch.decode(body)
        #expect(decoded.count == entries.count)
        for (read, sent) in zip(decoded, entries) {
            // Each report reads back as it does when sent alone.
            let alone = try WireCoding.decode(StepResultMessage.self, from: try WireCoding.encode(sent.result))
            #expect(read.result == alone)
            #expect(read.trace == sent.trace)
        }
    }

    @Test func aSingleReportIsOneEntryWithoutTrace() throws {
        var random = SplitMix64(seed: 8)
        let result = try SampleWireMessages.result(1, &random)
        let decoded = try StepResultBatch.decode(try WireCoding.encode(result))
        #expect(decoded == [StepResultBatch.Entry(try WireCoding.decode(StepResultMessage.self, from: try WireCoding.encode(result)))])
    }

    @Test func aBadBatchIsRefusedWholeAndNamesTheEntry() throws {
        var random = SplitMix64(seed: 9)
        let good = String(decoding: try WireCoding.encode(try SampleWireMessages.result(2, &random)), as: UTF8.self)
        let refusals: [(body: String, reason: String)] = [
            (#"{"event":"step.results","schema_version":1,"results":[]}"#, "non-empty array 'results'"),
            (#"{"event":"step.results","schema_version":1}"#, "non-empty array 'results'"),
            (#"{"event":"step.results","schema_version":2,"results":[\#(good)]}"#, "schema_version 1"),
            (#"{"event":"step.results","schema_version":1,"results":[\#(good),{"event":"step.completed"}]}"#, "results[1]:"),
            (#"{"event":"step.results","schema_version":1,"results":[\#(good),7]}"#, "results[1]:"),
            (#"{"event":"step.results","schema_version":1,"results":[\#(good.dropLast()),"trace":"x"}]}"#, "results[0].trace must be an object"),
            (#"{"event":"step.results","schema_version":1,"results":[\#(good.dropLast()),"trace":{"a":1}}]}"#, "results[0].trace.a must be a string"),
            (#"{"event":"step.results","#, "malformed JSON"),
        ]
        for (body, reason) in refusals {
            #expect(throws: WireDecodingError.self, "\(body)") { try StepResultBatch.decode(Data(body.utf8)) }
            do {
                _ = try StepResultBatch.decode(Data(body.utf8))
            } catch {
                #expect(error.reason.contains(reason), "\(body): \(error.reason)")
            }
        }
    }

    @Test func limitsAreASingleReportsPlusTheBatchAroundIt() throws {
        var random = SplitMix64(seed: 10)
        var deepest = try SampleWireMessages.result(3, &random)
        var value: JSONValue = 1
        for _ in 0..<InputLimit.nestingDepth.maximum { value = [value] }
        deepest.results = value
        // `results` at the deepest a report may carry fits in a batch too.
        #expect(try StepResultBatch.decode(try StepResultBatch.encode([.init(deepest), .init(deepest)])).count == 2)
        // One level deeper is refused, inside a batch as alone.
        deepest.results = [value]
        #expect(throws: WireDecodingError.self) { try StepResultBatch.decode(try StepResultBatch.encode([.init(deepest), .init(deepest)])) }
        #expect(throws: WireDecodingError.self) { try StepResultBatch.decode(try WireCoding.encode(deepest)) }

        // A body over the result body limit is refused before it is parsed.
        var large = try SampleWireMessages.result(4, &random)
        large.results = ["blob": .string(String(repeating: "x", count: InputLimit.stepResultBody.maximum / 2))]
        let body = try StepResultBatch.encode([.init(large), .init(large), .init(large)])
        do {
            _ = try StepResultBatch.decode(body)
            Issue.record("an oversized batch was accepted")
        } catch {
            #expect(error.limit?.limit == InputLimit.stepResultBody)
        }
    }
}
