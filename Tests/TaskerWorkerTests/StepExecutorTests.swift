import Foundation
import Logging
import Synchronization
import TaskerCore
import TaskerExamples
import TaskerTestSupport
import TaskerWorker
import Testing

private struct InventoryUnavailable: Error {}

@Suite("StepExecutor")
struct StepExecutorTests {
    let logger = testLogger

    @Test func completedResultCarriesResultsDurationAndIdentity() async throws {
        let clock = TickingClock(step: 0.25)
        let executor = StepExecutor(registry: exampleRegistry(), workerID: "host:7", now: clock.now)
        let dispatch = makeDispatch(attempt: 2, context: ["even_number": 2])

        let result = await executor.execute(dispatch, logger: logger)

        #expect(result.kind == .completed)
        #expect(result.results == ["value": 4])
        #expect(result.durationMs == 250)
        #expect(result.occurredAt == clock.start.addingTimeInterval(0.25))
        #expect(result.workerID == "host:7")
        #expect(result.taskID == dispatch.taskID)
        #expect(result.stepID == dispatch.stepID)
        #expect(result.stepName == dispatch.stepName)
        #expect(result.attempt == 2)
        #expect(result.errorKind == nil && result.errorMessage == nil)
    }

    @Test func startedMessage() {
        let clock = TickingClock(step: 1)
        let executor = StepExecutor(registry: exampleRegistry(), workerID: "w", now: clock.now)
        let dispatch = makeDispatch()
        let started = executor.started(dispatch)
        #expect(started.kind == .started)
        #expect(started.occurredAt == clock.start)
        #expect(started.stepID == dispatch.stepID)
        #expect(started.results == nil && started.durationMs == nil)
    }

    @Test func unknownHandlerIsPermanent() async {
        let executor = StepExecutor(registry: exampleRegistry(), workerID: "w")
        let result = await executor.execute(makeDispatch(handler: "DoesNotExist"), logger: logger)
        #expect(result.kind == .failed)
        #expect(result.errorKind == .permanent)
        #expect(result.errorMessage == "no handler registered for 'DoesNotExist'")
        #expect(result.errorClass == StepExecutor.unknownHandlerErrorClass)
    }

    @Test func foreignErrorIsRetryableWithItsTypeAsErrorClass() async {
        var registry = HandlerRegistry()
        registry.register("flaky") { _ in throw InventoryUnavailable() }
        let executor = StepExecutor(registry: registry, workerID: "w")
        let result = await executor.execute(makeDispatch(handler: "flaky"), logger: logger)
        #expect(result.kind == .failed)
        #expect(result.errorKind == .retryable)
        #expect(result.errorClass == "InventoryUnavailable")
        #expect(result.retryAfterSeconds == nil)
    }

    @Test func stepFailureKinds() async {
        var registry = HandlerRegistry()
        registry.register("permanent") { _ in throw StepFailure.permanent("bad input") }
        registry.register("retryable") { _ in throw StepFailure.retryable("try again") }
        registry.register("later") { _ in throw StepFailure.retryAfter(seconds: 42, "rate limited") }
        let executor = StepExecutor(registry: registry, workerID: "w")

        let permanent = await executor.execute(makeDispatch(handler: "permanent"), logger: logger)
        #expect(permanent.errorKind == .permanent)
        #expect(permanent.errorMessage == "bad input")
        #expect(permanent.errorClass == "StepFailure")

        let retryable = await executor.execute(makeDispatch(handler: "retryable"), logger: logger)
        #expect(retryable.errorKind == .retryable)
        #expect(retryable.retryAfterSeconds == nil)

        let later = await executor.execute(makeDispatch(handler: "later"), logger: logger)
        #expect(later.errorKind == .retryable)
        #expect(later.retryAfterSeconds == 42)
        #expect(later.errorMessage == "rate limited")
    }

    @Test(.timeLimit(.minutes(1)))
    func timeoutCancelsTheHandler() async {
        let sawCancellation = Mutex(false)
        var registry = HandlerRegistry()
        registry.register("slow") { _ in
            do {
                try await Task.sleep(for: .seconds(30))
            } catch is CancellationError {
                sawCancellation.withLock { $0 = true }
                throw CancellationError()
            }
            return [:]
        }
        let executor = StepExecutor(registry: registry, workerID: "w")
        let clock = ContinuousClock()
        let start = clock.now

        let result = await executor.execute(makeDispatch(handler: "slow", timeoutSeconds: 0.2), logger: logger)

        #expect(clock.now - start < .seconds(10))
        #expect(result.kind == .failed)
        #expect(result.errorKind == .timeout)
        #expect(result.errorMessage == "timed out after 0.2s")
        #expect(result.errorClass == StepExecutor.timeoutErrorClass)
        #expect(sawCancellation.withLock { $0 })
    }

    @Test func fastHandlerIsUnaffectedByItsTimeout() async {
        var registry = HandlerRegistry()
        registry.register("fast") { _ in ["ok": true] }
        let executor = StepExecutor(registry: registry, workerID: "w")
        let result = await executor.execute(makeDispatch(handler: "fast", timeoutSeconds: 1), logger: logger)
        #expect(result.kind == .completed)
        #expect(result.results == ["ok": true])
    }

    @Test func handlerSeesTheStepContextAndLoggerMetadata() async {
        let seen = Mutex<StepContext?>(nil)
        var registry = HandlerRegistry()
        registry.register("probe") { step in
            seen.withLock { $0 = step }
            return [:]
        }
        let executor = StepExecutor(registry: registry, workerID: "w")
        let dispatch = makeDispatch(
            handler: "probe",
            stepName: "probe_step",
            attempt: 2,
            maxAttempts: 5,
            context: ["a": 1],
            parentResults: ["p": ["value": 3]],
            handlerConfig: ["k": "v"]
        )
        _ = await executor.execute(dispatch, logger: logger)

        let captured: StepContext? = seen.withLock { $0 }
        guard let step = captured else {
            Issue.record("the handler was not called")
            return
        }
        #expect(step.taskID == dispatch.taskID)
        #expect(step.stepID == dispatch.stepID)
        #expect(step.stepName == "probe_step")
        #expect(step.attempt == 2)
        #expect(step.maxAttempts == 5)
        #expect(step.context == ["a": 1])
        #expect(step.parentResults == ["p": ["value": 3]])
        #expect(step.config == ["k": "v"])
        #expect(step.deadline == dispatch.deadline)
        #expect(step.logger[metadataKey: LogKeys.taskID] == "\(dispatch.taskID)")
        #expect(step.logger[metadataKey: LogKeys.stepID] == "\(dispatch.stepID)")
        #expect(step.logger[metadataKey: LogKeys.stepName] == "probe_step")
        #expect(step.logger[metadataKey: LogKeys.attempt] == "2")
    }

    @Test func registryLookup() {
        var registry = HandlerRegistry()
        registry.register("b") { _ in [:] }
        registry.register("a", NoopHandler())
        #expect(registry.names == ["a", "b"])
        #expect(registry.contains("a"))
        #expect(registry.handler(named: "missing") == nil)
    }

    @Test func duplicateRegistrationIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) {
            var registry = HandlerRegistry()
            registry.register("same") { _ in [:] }
            registry.register("same") { _ in [:] }
        }
    }
}
