import Foundation
import TaskerCore
import TaskerTestSupport

/// Varied wire messages for the coding tests: every kind of result, optional fields present and
/// absent, random JSON values (``RandomJSON``), escapes in strings, dates to the microsecond.
enum SampleWireMessages {
    static func date(_ random: inout SplitMix64) -> Date {
        Date(timeIntervalSince1970: Double(Int64.random(in: 1_600_000_000_000_000...1_900_000_000_000_000, using: &random)) / 1e6)
    }

    static func result(_ index: Int, _ random: inout SplitMix64) throws -> StepResultMessage {
        let now = date(&random)
        let kind: StepResultMessage.Kind = [.started, .completed, .failed][index % 3]
        return StepResultMessage(
            kind: kind, taskID: UUID(), stepID: UUID(), stepName: "step \"\(index)\"\n", attempt: index % 4 + 1, workerID: "w/\(index)",
            occurredAt: now, startedAt: index % 2 == 0 ? now.addingTimeInterval(-0.25) : nil,
            results: kind == .completed ? try JSONValue.parse(RandomJSON.text(depth: 1, using: &random)) : JSONValue?.none,
            durationMs: kind == .started ? nil : Double(index) / 8, errorMessage: kind == .failed ? "boom \u{01} \"quoted\"" : nil,
            errorKind: kind == .failed ? [.retryable, .permanent][index % 2] : nil)
    }

    static func dispatch(_ index: Int, _ random: inout SplitMix64) throws -> StepDispatch {
        let now = date(&random)
        return StepDispatch(
            taskID: UUID(), stepID: UUID(), stepName: "s\(index)", handler: "square", namespace: "ns", templateName: "t",
            templateVersion: "1.0.0", attempt: index % 3 + 1, maxAttempts: 3, context: try JSONValue.parse(RandomJSON.text(depth: 0, using: &random)),
            parentResults: ["a": try JSONValue.parse(RandomJSON.text(depth: 1, using: &random)), "b": ["v": .int(Int64(index))]],
            handlerConfig: ["x": 1.5], timeoutSeconds: 30, deadline: now.addingTimeInterval(30), dispatchedAt: now)
    }
}
