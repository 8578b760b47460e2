import Foundation
import Synchronization
import TaskerAMQP
import TaskerCore
@testable import TaskerWorker
import TaskerWire
import Testing

/// Cancelling running attempts on request (``RunningSteps``), and the cancellation message on
/// the wire. Pure: no broker (the pipeline tests cancel a real handler end to end).
@Suite struct RunningStepsTests {
    /// A body whose work sleeps until cancelled (or 30 s), and says whether it was cancelled.
    static func sleeper(_ dispatch: StepDispatch, started: AsyncStream<Void>.Continuation) -> @Sendable (AttemptCancellation) async -> StepResultMessage {
        { cancellation in
            let work = Task {
                started.yield()
                return (try? await Task.sleep(for: .seconds(30))) == nil
            }
            cancellation.onCancel { work.cancel() }
            let cancelled = await work.value
            return StepResultMessage(
                kind: cancelled ? .failed : .completed, taskID: dispatch.taskID, stepID: dispatch.stepID, stepName: dispatch.stepName,
                attempt: dispatch.attempt, workerID: "w", occurredAt: Date())
        }
    }

    @Test(.timeLimit(.minutes(1))) func cancellingARunningAttemptStopsItsHandlerAndReportsNothing() async {
        let running = RunningSteps()
        let dispatch = makeDispatch(attempt: 2)
        let (started, signal) = AsyncStream<Void>.makeStream()
        async let result = running.run(dispatch, Self.sleeper(dispatch, started: signal))
        for await _ in started { break }
        #expect(running.count == 1)
        #expect(!running.cancel(.init(stepID: dispatch.stepID, attempt: 1)), "another attempt is not running")
        #expect(running.count == 1)
        #expect(running.cancel(.init(stepID: dispatch.stepID, attempt: 2)))
        #expect(await result == nil)
        #expect(running.count == 0)
    }

    @Test func anAttemptCancelledBeforeItsDispatchArrivesNeverRuns() async {
        let running = RunningSteps()
        let dispatch = makeDispatch()
        #expect(!running.cancel(.init(stepID: dispatch.stepID, attempt: 1)))
        let ran = Mutex(false)
        let result = await running.run(dispatch) { _ in
            ran.withLock { $0 = true }
            return StepResultMessage(
                kind: .completed, taskID: dispatch.taskID, stepID: dispatch.stepID, stepName: "a", attempt: 1, workerID: "w", occurredAt: Date())
        }
        #expect(result == nil)
        #expect(!ran.withLock { $0 })
    }

    @Test func anAttemptNobodyCancelledReturnsItsResult() async {
        let running = RunningSteps()
        let dispatch = makeDispatch()
        let result = await running.run(dispatch) { _ in
            StepResultMessage(
                kind: .completed, taskID: dispatch.taskID, stepID: dispatch.stepID, stepName: "a", attempt: 1, workerID: "w", occurredAt: Date())
        }
        #expect(result?.kind == .completed)
        #expect(running.count == 0)
    }

    @Test func onlyTheMostRecentCancellationsAreRemembered() async {
        let running = RunningSteps()
        let first = makeDispatch()
        running.cancel(.init(stepID: first.stepID, attempt: 1))
        for _ in 0..<RunningSteps.rememberedLimit { running.cancel(.init(stepID: UUID(), attempt: 1)) }
        let result = await running.run(first) { _ in
            StepResultMessage(kind: .completed, taskID: first.taskID, stepID: first.stepID, stepName: "a", attempt: 1, workerID: "w", occurredAt: Date())
        }
        #expect(result != nil, "forgotten: it runs (and its result would be ignored by the finalizer)")
    }

    @Test func cancellationsAreTransientControlMessagesRoutedByNamespace() throws {
        let topology = WireTopology(prefix: "t")
        let cancellation = StepCancellation(
            taskID: UUID(), stepID: UUID(), stepName: "b", attempt: 3, reason: "wrong input", occurredAt: Date(timeIntervalSince1970: 0))
        let message = try OutboundMessage.cancellation(cancellation, namespace: "shop", topology: topology, messageID: UUID())
        #expect(message.exchange == "t.control" && message.routingKey == "shop" && message.type == "step.cancel")
        let kind = WireMessageKind(outboundType: message.type)
        #expect(kind == .stepCancellation)
        #expect(!kind.isPersistent && !kind.isMandatory)
        let decoded = try WireCoding.decode(StepCancellation.self, from: message.body)
        #expect(decoded == cancellation)
        let json = try JSONValue.parse(message.body)
        #expect(Set(json.objectValue?.keys.map { $0 } ?? []) == [
            "schema_version", "task_id", "step_id", "step_name", "attempt", "reason", "occurred_at",
        ])
        #expect(TaskerTopology.exchanges(topology).contains { $0.name == "t.control" && $0.kind == .direct })
    }
}
