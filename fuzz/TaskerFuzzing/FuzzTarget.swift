public import Foundation
internal import TaskerCore

/// One decoder under test, with the properties every input must keep.
///
/// Beyond "no crash, no hang" (which the caller watches), each run checks that an accepted
/// input is within every limit and survives the next stage (re-encoding, re-loading, hashing),
/// and that a refused input says why (and names the limit when it is over one).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `TaskRequest.decode(_:)` on a request body.
    case taskRequest = "request"
    /// `WireCoding.decode(StepDispatch.self, from:)`.
    case stepDispatch = "dispatch"
    /// `WireCoding.decode(StepResultMessage.self, from:)`.
    case stepResult = "result"
    /// `StepResultBatch.decode(_:)`: what the finalizer runs on a results-queue body (one
    /// report, or a `step.results` batch of them).
    case stepResults = "results"
    /// `TemplateLoader.load(yaml:file:)`, with and without the `test` environment.
    case templateYAML = "template-yaml"
    /// `TemplateLoader.load(json:file:)`.
    case templateJSON = "template-json"

    /// What a run made of an input.
    public enum Verdict: Sendable, Hashable {
        case accepted
        /// Refused, with the first line of the reason (for a histogram of reasons).
        case rejected(String)
    }

    /// A broken property: the decoder returned without crashing, but wrongly.
    public struct Violation: Error, Sendable, CustomStringConvertible {
        public let target: FuzzTarget
        public let message: String
        public var description: String { "\(target.rawValue): \(message)" }
    }

    /// Runs one input through the decoder and checks the properties.
    public func run(_ input: Data) throws(Violation) -> Verdict {
        switch self {
        case .taskRequest: return try runTaskRequest(input)
        case .stepDispatch: return try runWire(StepDispatch.self, input, limit: .stepDispatchBody)
        case .stepResult: return try runWire(StepResultMessage.self, input, limit: .stepResultBody)
        case .stepResults: return try runResults(input)
        case .templateYAML:
            let text = String(decoding: input, as: UTF8.self)
            let verdict = try runTemplate { () throws(TemplateLoadError) in try TemplateLoader().load(yaml: text, file: "fuzz.yaml") }
            _ = try runTemplate { () throws(TemplateLoadError) in try TemplateLoader(environment: "test").load(yaml: text, file: "fuzz.yaml") }
            return verdict
        case .templateJSON:
            return try runTemplate { () throws(TemplateLoadError) in try TemplateLoader().load(json: input, file: "fuzz.json") }
        }
    }

    private func fail(_ message: String) -> Violation {
        Violation(target: self, message: message)
    }

    private func checkDepth(_ value: JSONValue, _ place: String) throws(Violation) {
        let depth = value.nestingDepth
        if depth > InputLimit.nestingDepth.maximum { throw fail("accepted \(place) nested \(depth) levels deep") }
    }

    private func runTaskRequest(_ input: Data) throws(Violation) -> Verdict {
        let request: TaskRequest
        do {
            request = try TaskRequest.decode(input)
        } catch {
            if error.errors.isEmpty { throw fail("rejection without a reason") }
            if input.count > InputLimit.taskRequestBody.maximum, error.limits.first?.limit != .taskRequestBody {
                throw fail("oversized body (\(input.count) bytes) refused without naming the limit: \(error)")
            }
            return .rejected(Self.reasonKind(error.errors[0]))
        }
        if input.count > InputLimit.taskRequestBody.maximum { throw fail("accepted a body of \(input.count) bytes") }
        try checkDepth(request.context, "context")
        let size = request.context.canonicalData().count
        if size > InputLimit.contextBytes.maximum { throw fail("accepted a context of \(size) bytes") }
        // What the coordinator does next: re-read its own rendering, hash the identity.
        let again: TaskRequest
        do {
            again = try TaskRequest.decode(request.json)
        } catch {
            throw fail("request.json is refused: \(error)")
        }
        if again != request { throw fail("request.json does not decode to the same request") }
        let key = TemplateKey(namespace: request.namespace, name: request.name, version: request.version ?? SemanticVersion(1, 0, 0))
        _ = try? TaskIdentity.hash(strategy: .strict, template: key, context: request.context, idempotencyKey: request.idempotencyKey)
        return .accepted
    }

    private func runWire<Message: Codable & Equatable>(_ type: Message.Type, _ input: Data, limit: InputLimit) throws(Violation) -> Verdict {
        let message: Message
        do {
            message = try WireCoding.decode(type, from: input)
        } catch {
            if error.reason.isEmpty { throw fail("rejection without a reason") }
            if input.count > limit.maximum, error.limit?.limit != limit {
                throw fail("oversized body (\(input.count) bytes) refused without naming the limit: \(error)")
            }
            return .rejected(Self.reasonKind(error.reason))
        }
        if input.count > limit.maximum { throw fail("accepted a body of \(input.count) bytes") }
        if let dispatch = message as? StepDispatch {
            try checkDepth(dispatch.context, "context")
            try checkDepth(dispatch.handlerConfig, "handler_config")
            for value in dispatch.parentResults.values { try checkDepth(value, "parent result") }
            if dispatch.timeoutSeconds > StepTemplate.maxDurationSeconds { throw fail("accepted timeout_seconds \(dispatch.timeoutSeconds)") }
            // What a worker does with it: a Duration for the timeout, the deadline as seconds.
            if dispatch.timeoutSeconds > 0, dispatch.timeoutSeconds.isFinite { _ = Duration.seconds(dispatch.timeoutSeconds) }
            _ = dispatch.deadline.timeIntervalSinceNow
        }
        if let result = message as? StepResultMessage, let results = result.results { try checkDepth(results, "results") }
        // Whatever was accepted must be encodable again and read back the same way.
        let encoded: Data
        do {
            encoded = try WireCoding.encode(message)
        } catch {
            throw fail("accepted message cannot be encoded: \(error)")
        }
        do {
            _ = try WireCoding.decode(type, from: encoded)
        } catch {
            throw fail("re-encoded message is refused: \(error)")
        }
        return .accepted
    }

    private func runResults(_ input: Data) throws(Violation) -> Verdict {
        let entries: [StepResultBatch.Entry]
        do {
            entries = try StepResultBatch.decode(input)
        } catch {
            if error.reason.isEmpty { throw fail("rejection without a reason") }
            if input.count > InputLimit.stepResultBody.maximum, error.limit?.limit != .stepResultBody {
                throw fail("oversized body (\(input.count) bytes) refused without naming the limit: \(error)")
            }
            return .rejected(Self.reasonKind(error.reason))
        }
        if input.count > InputLimit.stepResultBody.maximum { throw fail("accepted a body of \(input.count) bytes") }
        if entries.isEmpty { throw fail("accepted a body without reports") }
        for entry in entries {
            if let results = entry.result.results { try checkDepth(results, "results") }
        }
        // What a worker sends: the reports again, as one batch, read back the same.
        let encoded: Data
        do {
            encoded = try StepResultBatch.encode(entries)
        } catch {
            throw fail("accepted reports cannot be encoded: \(error)")
        }
        do {
            let again = try StepResultBatch.decode(encoded)
            if again.count != entries.count || zip(again, entries).contains(where: { $0.trace != $1.trace }) {
                throw fail("re-encoded reports read back differently")
            }
        } catch let violation as Violation {
            throw violation
        } catch {
            throw fail("re-encoded reports are refused: \(error)")
        }
        return .accepted
    }

    private func runTemplate(_ load: () throws(TemplateLoadError) -> TaskTemplate) throws(Violation) -> Verdict {
        let template: TaskTemplate
        do {
            template = try load()
        } catch {
            if error.problems.isEmpty { throw fail("load error without problems") }
            for problem in error.problems where problem.file != error.file {
                throw fail("problem names another file: \(problem)")
            }
            return .rejected(Self.reasonKind(error.problems[0].message))
        }
        if template.steps.isEmpty || template.steps.count > InputLimit.templateSteps.maximum {
            throw fail("accepted a template with \(template.steps.count) steps")
        }
        if template.graph.topologicalOrder.count != template.steps.count { throw fail("topological order misses steps") }
        for step in template.steps {
            try checkDepth(step.handlerConfig, "handler_config")
            for seconds in [step.timeoutSeconds, step.retry.backoff.baseSeconds, step.retry.backoff.maxSeconds] {
                if !seconds.isFinite || seconds > StepTemplate.maxDurationSeconds { throw fail("accepted a duration of \(seconds) s") }
            }
            _ = Duration.seconds(step.timeoutSeconds)
        }
        if let schema = template.contextSchema { try checkDepth(schema.document, "context_schema") }
        _ = template.contentHash
        // The stored form must load again, to the same template.
        let again: TaskTemplate
        do {
            again = try TemplateLoader().load(document: template.definition, file: "stored")
        } catch {
            throw fail("stored definition is refused: \(error)")
        }
        if again.key != template.key || again.steps.map(\.name) != template.steps.map(\.name) {
            throw fail("stored definition loads to a different template")
        }
        return .accepted
    }

    /// The reason with numbers, quoted text and paths blanked, so similar reasons count as one.
    static func reasonKind(_ reason: String) -> String {
        var kind = ""
        var quoted = false
        for character in reason.prefix(90) {
            if character == "'" {
                quoted.toggle()
                if !quoted { kind += "'…'" }
                continue
            }
            if quoted { continue }
            kind.append(character.isNumber ? "#" : character)
        }
        return kind
    }
}
