public import Foundation

/// Several reports in one message on the results exchange (`step.results`).
///
/// A worker sends the results that finished while its previous message waited for the
/// broker's confirm together, so a busy worker sends a few larger messages instead of one per
/// step; an idle one still sends each report alone, as `step.completed` / `step.failed`
/// (docs/wire-protocol.md, "Result batches"). The finalizer reads both with ``decode(_:)``.
///
/// ```json
/// {"event": "step.results", "schema_version": 1,
///  "results": [{"event": "step.completed", "task_id": "…", …, "trace": {"traceparent": "00-…"}}, …]}
/// ```
public enum StepResultBatch {
    /// The `event` of a batch body, and its AMQP `type`.
    public static let event = "step.results"

    /// One report, with the trace context of the attempt that made it: what a report sent alone
    /// carries in its AMQP headers (W3C `traceparent` / `tracestate`), in the entry's `trace`.
    public struct Entry: Sendable, Hashable {
        public var result: StepResultMessage
        public var trace: [String: String]

        public init(_ result: StepResultMessage, trace: [String: String] = [:]) {
            self.result = result
            self.trace = trace
        }
    }

    /// A batch body: every entry as it would be sent alone, plus its `trace` when it has one.
    /// Throws when a report holds a number JSON cannot carry (as ``WireCoding/encode(_:)``).
    public static func encode(_ entries: [Entry]) throws -> Data {
        var reports: [JSONValue] = []
        reports.reserveCapacity(entries.count)
        for entry in entries {
            guard case .object(var members) = try WireCoding.wireValue(of: entry.result) else {
                throw EncodingError.invalidValue(entry.result, .init(codingPath: [], debugDescription: "a report encodes as an object"))
            }
            if !entry.trace.isEmpty { members["trace"] = .object(entry.trace.mapValues(JSONValue.string)) }
            reports.append(.object(members))
        }
        let body: JSONValue = .object([
            "event": .string(event), "schema_version": .int(Int64(WireCoding.schemaVersion)), "results": .array(reports),
        ])
        return body.canonicalData()
    }

    /// The reports a results-queue body carries: the one report of a `step.completed`,
    /// `step.failed` or `step.started` body (with no trace: a single report's is in its
    /// headers), or every entry of a `step.results` body, in order.
    ///
    /// A batch has the limits of a single report (``InputLimit/stepResultBody``; each report's
    /// `results` within ``InputLimit/nestingDepth``) and may nest three levels more around them
    /// (``InputLimit/resultBatchNestingDepth``). One unreadable entry makes the whole body
    /// unreadable: it names the entry.
    public static func decode(_ data: Data) throws(WireDecodingError) -> [Entry] {
        let bodyLimit = InputLimit.stepResultBody
        guard data.count <= bodyLimit.maximum else {
            throw WireDecodingError(limit: bodyLimit.exceeded(by: data.count))
        }
        let depth = JSONText.nestingDepth(of: data)
        guard depth <= InputLimit.resultBatchNestingDepth.maximum else {
            throw WireDecodingError(limit: InputLimit.resultBatchNestingDepth.exceeded(by: depth))
        }
        let parsed = try WireCoding.parse(data)
        guard let members = parsed.objectValue, members["event"]?.stringValue == event else {
            // A single report may nest one level less than a batch.
            guard depth <= InputLimit.messageNestingDepth.maximum else {
                throw WireDecodingError(limit: InputLimit.messageNestingDepth.exceeded(by: depth, in: bodyLimit.subject))
            }
            return [Entry(try WireCoding.decode(StepResultMessage.self, fromParsed: parsed))]
        }
        guard WireMembers(members: members).int("schema_version") == WireCoding.schemaVersion else {
            throw WireDecodingError(reason: "a step.results body needs schema_version \(WireCoding.schemaVersion)")
        }
        guard let reports = members["results"]?.arrayValue, !reports.isEmpty else {
            throw WireDecodingError(reason: "a step.results body needs a non-empty array 'results'")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(reports.count)
        for (index, report) in reports.enumerated() {
            let result: StepResultMessage
            do {
                result = try WireCoding.decode(StepResultMessage.self, fromParsed: report)
            } catch {
                throw WireDecodingError(reason: "results[\(index)]: \(error.reason)")
            }
            entries.append(Entry(result, trace: try trace(of: report, at: index)))
        }
        return entries
    }

    /// An entry's `trace`: an object of strings, or absent.
    private static func trace(of report: JSONValue, at index: Int) throws(WireDecodingError) -> [String: String] {
        guard let value = report.objectValue?["trace"], value != .null else { return [:] }
        guard let members = value.objectValue else {
            throw WireDecodingError(reason: "results[\(index)].trace must be an object of strings")
        }
        var trace: [String: String] = [:]
        for (key, value) in members {
            guard let text = value.stringValue else {
                throw WireDecodingError(reason: "results[\(index)].trace.\(key) must be a string")
            }
            trace[key] = text
        }
        return trace
    }
}
