import Foundation
import TaskerCore
import TaskerExamples
import TaskerTestSupport
import TaskerWorker
import Testing

@Suite("Example handlers")
struct ExampleHandlersTests {
    let executor = StepExecutor(registry: exampleRegistry(), workerID: "w")
    let p = ExampleHandlers.prime

    private func run(
        _ handler: String = "square",
        step: String = "step_1",
        attempt: Int = 1,
        context: JSONValue = ["even_number": 2],
        parents: [String: JSONValue] = [:],
        config: JSONValue = [:],
        timeoutSeconds: Double = 30
    ) async -> StepResultMessage {
        await executor.execute(
            makeDispatch(
                handler: handler,
                stepName: step,
                attempt: attempt,
                context: context,
                parentResults: parents,
                handlerConfig: config,
                timeoutSeconds: timeoutSeconds
            ),
            logger: testLogger
        )
    }

    // MARK: square

    @Test func squareOfARootStep() async {
        let result = await run(context: ["even_number": 2])
        #expect(result.kind == .completed)
        #expect(result.results == ["value": 4])
    }

    @Test func squareReadsTheConfiguredInputKey() async {
        let result = await run(context: ["cart_id": 12], config: ["input_key": "cart_id"])
        #expect(result.results == ["value": 144])
    }

    @Test func squareOfTheProductOfParents() async {
        // diamond: start -> {b, c} -> end with x = 2: b = c = 16, end squares 16 * 16 = 256.
        let result = await run(step: "end", parents: ["branch_b": ["value": 16], "branch_c": ["value": 16]])
        #expect(result.results == ["value": .int(65_536)])
    }

    @Test func squareStaysBelowThePrime() async {
        let big = p - 1  // (p-1)^2 mod p == 1
        let single = await run(parents: ["a": ["value": .int(big)]])
        #expect(single.results == ["value": 1])

        let x: Int64 = 999_999_999
        let y: Int64 = 987_654_321
        let expectedInput = (x * y) % p
        let expected = (expectedInput * expectedInput) % p
        let multi = await run(parents: ["a": ["value": .int(x)], "b": ["value": .int(y)]])
        #expect(multi.results == ["value": .int(expected)])
    }

    @Test func linearChainGivesTheSixteenthPower() async throws {
        var value: JSONValue = ["value": 0]
        var parents: [String: JSONValue] = [:]
        for index in 1...4 {
            let result = await run(step: "step_\(index)", context: ["even_number": 6], parents: parents)
            value = try #require(result.results)
            parents = ["step_\(index)": value]
        }
        var expected: Int64 = 1
        for _ in 0..<16 { expected = (expected * 6) % p }
        #expect(value == ["value": .int(expected)])
    }

    static let badInputs: [(JSONValue, String)] = [
        ([:], "context.even_number is missing"),
        (["even_number": "two"], "context.even_number must be an integer, got string"),
        (["even_number": 2.5], "context.even_number must be an integer, got number"),
    ]

    @Test(arguments: badInputs)
    func squareRejectsBadInputPermanently(context: JSONValue, message: String) async {
        let result = await run(context: context)
        #expect(result.kind == .failed)
        #expect(result.errorKind == .permanent)
        #expect(result.errorMessage?.contains(message) == true)
    }

    @Test func squareRejectsAParentWithoutValue() async {
        let result = await run(parents: ["a": ["other": 1]])
        #expect(result.errorKind == .permanent)
        #expect(result.errorMessage?.contains("parent 'a' has no 'value'") == true)
    }

    // MARK: failure injection

    @Test func failOnceFailsTheFirstAttemptOnly() async {
        let context: JSONValue = ["even_number": 2, "fail_once": ["step_1"]]
        let first = await run(attempt: 1, context: context)
        #expect(first.kind == .failed)
        #expect(first.errorKind == .retryable)
        let second = await run(attempt: 2, context: context)
        #expect(second.kind == .completed)
        // Other steps are unaffected.
        let other = await run(step: "step_2", attempt: 1, context: context)
        #expect(other.kind == .completed)
    }

    @Test func failTimesFailsTheFirstNAttempts() async {
        let context: JSONValue = ["even_number": 2, "fail_times": ["step_1": 2]]
        #expect(await run(attempt: 1, context: context).errorKind == .retryable)
        #expect(await run(attempt: 2, context: context).errorKind == .retryable)
        #expect(await run(attempt: 3, context: context).kind == .completed)
    }

    @Test func alwaysFailFailsEveryAttempt() async {
        let context: JSONValue = ["even_number": 2, "always_fail": ["step_1"]]
        for attempt in 1...5 {
            let result = await run(attempt: attempt, context: context)
            #expect(result.kind == .failed)
            #expect(result.errorKind == .retryable)
        }
    }

    @Test func failPermanently() async {
        let result = await run(context: ["even_number": 2, "fail_permanently": ["step_1"]])
        #expect(result.kind == .failed)
        #expect(result.errorKind == .permanent)
        #expect(result.errorClass == "StepFailure")
    }

    @Test func retryAfterCarriesTheSeconds() async {
        let context: JSONValue = ["even_number": 2, "retry_after": ["step_1": 7]]
        let first = await run(attempt: 1, context: context)
        #expect(first.errorKind == .retryable)
        #expect(first.retryAfterSeconds == 7)
        #expect(await run(attempt: 2, context: context).kind == .completed)
    }

    @Test(.timeLimit(.minutes(1)))
    func sleepPastTheTimeoutTimesOut() async {
        let start = ContinuousClock.now
        let result = await run(context: ["even_number": 2, "sleep_ms": ["step_1": 60_000]], timeoutSeconds: 0.1)
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(result.errorKind == .timeout)
        #expect(result.errorMessage == "timed out after 0.1s")
    }

    @Test func shortSleepStillCompletes() async {
        let result = await run(context: ["even_number": 3, "sleep_ms": ["step_1": 10]])
        #expect(result.results == ["value": 9])
        #expect((result.durationMs ?? 0) >= 10)
    }

    // MARK: noop and sleep

    @Test func noopReturnsAnEmptyObject() async {
        let result = await run("noop", context: [:])
        #expect(result.results == [:])
    }

    @Test func sleepHandlerUsesConfigThenContext() async {
        let fromConfig = await run("sleep", context: [:], config: ["ms": 20])
        #expect(fromConfig.results == [:])
        #expect((fromConfig.durationMs ?? 0) >= 20)
        let fromContext = await run("sleep", context: ["sleep_ms": 20])
        #expect((fromContext.durationMs ?? 0) >= 20)
        let timedOut = await run("sleep", context: [:], config: ["ms": 60_000], timeoutSeconds: 0.05)
        #expect(timedOut.errorKind == .timeout)
    }
}
