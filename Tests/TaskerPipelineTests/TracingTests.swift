import Foundation
import InMemoryTracing
import Testing
import TaskerCore
import TaskerPostgres
import TaskerTestSupport
import Tracing

/// The process's tracer for these tests: bootstrapped once (a process can bootstrap only once).
/// ops/test runs this suite in a process of its own.
let inMemoryTracer: InMemoryTracer = {
    let tracer = InMemoryTracer()
    InstrumentationSystem.bootstrap(tracer)
    return tracer
}()

/// Spans across the broker: coordinator → worker → finalizer → worker, one trace per task
/// (docs/operations.md, "Traces").
@Suite(.serialized, .timeLimit(.minutes(2))) struct TracingTests {
    static func string(_ span: FinishedInMemorySpan, _ key: String) -> String? {
        guard case .string(let value)? = span.attributes[key]?.toSpanAttribute() else { return nil }
        return value
    }

    @Test func aDiamondsStepsFormOneTraceUnderItsRequest() async throws {
        let tracer = inMemoryTracer
        try await PipelineHarness.run { harness in
            let reply = try await harness.submit("diamond", context: ["even_number": 2, "run": .string(UUID().uuidString)])
            let taskID = try #require(reply.taskID)
            #expect(try await harness.waitForTask(taskID).task.state == .complete)
            let task = "\(taskID)"

            let spans = try await waitFor("the diamond's spans", timeout: .seconds(10), every: .milliseconds(50)) { () -> [FinishedInMemorySpan]? in
                let spans = tracer.finishedSpans
                let attempts = spans.filter { $0.operationName == "tasker.step.attempt" && Self.string($0, "tasker.task.id") == task }
                return attempts.count == 4 ? spans : nil
            }
            let request = try #require(spans.first { $0.operationName == "tasker.task.request" && Self.string($0, "tasker.task.id") == task })
            #expect(request.parentSpanID == nil, "the request had no trace: its span is the root")
            #expect(request.kind == .consumer)
            var attempts: [String: FinishedInMemorySpan] = [:]
            for span in spans where span.operationName == "tasker.step.attempt" && Self.string(span, "tasker.task.id") == task {
                attempts[try #require(Self.string(span, "tasker.step.name"))] = span
            }
            let start = try #require(attempts["start"]), branchB = try #require(attempts["branch_b"])
            let branchC = try #require(attempts["branch_c"]), end = try #require(attempts["end"])
            #expect(attempts.values.allSatisfy { $0.traceID == request.traceID }, "one trace for the whole task")
            #expect(start.parentSpanID == request.spanID, "the root step runs under the request")
            #expect(branchB.parentSpanID == start.spanID && branchC.parentSpanID == start.spanID, "the branches run under the step that made them ready")
            #expect([branchB.spanID, branchC.spanID].contains(end.parentSpanID ?? ""), "the fan-in step runs under the branch whose report made it ready")

            // Each finalizer batch links the step attempts whose reports it recorded.
            let linked = Set(spans.filter { $0.operationName == "tasker.results.batch" }
                .flatMap { $0.links.compactMap { $0.context.inMemorySpanContext?.spanID } })
            #expect(Set(attempts.values.map(\.spanID)).isSubset(of: linked))
        }
    }
}
