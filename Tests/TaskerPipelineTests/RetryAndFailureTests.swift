import Foundation
import Testing
import TaskerCore
import TaskerPostgres
import TaskerServices

@Suite(.serialized, .timeLimit(.minutes(3))) struct RetryAndFailureTests {
    static let timeoutTemplate = """
        name: slow
        namespace: NAMESPACE
        version: 1.0.0
        steps:
          - { name: nap, handler: square, timeout_seconds: 0.5, retry: { max_attempts: 2, base_seconds: 0.1, max_seconds: 0.2 } }
        """

    @Test func failingOnceCompletesOnTheSecondAttemptAfterItsBackoff() async throws {
        try await PipelineHarness.run { harness in
            let reply = try await harness.submit("linear", context: ["even_number": 2, "fail_once": ["step_2"], "run": .string(UUID().uuidString)])
            let detail = try await harness.waitForTask(try #require(reply.taskID))
            #expect(detail.task.state == .complete)
            let step = try #require(detail.step(named: "step_2"))
            #expect(step.attempts == 2)
            #expect(detail.step(named: "step_4")?.results?["value"] == .int(65_536))
            let trail = try #require(detail.stepTransitions[step.id])
            #expect(trail.map(\.toState) == [
                "pending", "enqueued", "in_progress", "waiting_for_retry", "enqueued", "in_progress", "complete",
            ])
            // Backoff in the test environment: base 0.2 s with +-10 % jitter for the first retry,
            // counted from the finalizer's decision. An audit row's time is its write's, which
            // comes a few milliseconds after the decision (the batch's read and decisions happen
            // first), so the interval between the two rows may fall that much short of 0.18 s.
            let failedAt = trail[3].createdAt
            let requeuedAt = trail[4].createdAt
            let retryAt = try #require(trail[3].metadata["next_retry_at"]?.stringValue)
            #expect(requeuedAt.timeIntervalSince(failedAt) >= 0.15, "retried after \(requeuedAt.timeIntervalSince(failedAt)) s")
            #expect(requeuedAt.timeIntervalSince(failedAt) < 1.5, "retry was late: \(requeuedAt.timeIntervalSince(failedAt)) s (due \(retryAt))")
        }
    }

    @Test func alwaysFailingStepErrorsAfterMaxAttemptsAndOnlyBlocksItsDescendants() async throws {
        try await PipelineHarness.run { harness in
            let reply = try await harness.submit("diamond", context: ["even_number": 2, "always_fail": ["branch_b"], "run": .string(UUID().uuidString)])
            let detail = try await harness.waitForTask(try #require(reply.taskID))
            #expect(detail.task.state == .error)
            #expect(detail.step(named: "branch_b")?.state == .error)
            #expect(detail.step(named: "branch_b")?.attempts == 3)
            #expect(detail.step(named: "branch_c")?.state == .complete)
            #expect(detail.step(named: "end")?.state == .pending)
            #expect(detail.step(named: "end")?.attempts == 0)
            #expect(detail.taskTransitions.map(\.toState) == ["pending", "in_progress", "error"])
        }
    }

    @Test func permanentFailureIsNotRetried() async throws {
        try await PipelineHarness.run { harness in
            let reply = try await harness.submit("linear", context: ["even_number": 2, "fail_permanently": ["step_1"], "run": .string(UUID().uuidString)])
            let detail = try await harness.waitForTask(try #require(reply.taskID))
            #expect(detail.task.state == .error)
            let step = try #require(detail.step(named: "step_1"))
            #expect(step.state == .error && step.attempts == 1)
            #expect(step.lastError?["kind"] == "permanent")
            #expect(detail.stepTransitions[step.id]?.map(\.toState) == ["pending", "enqueued", "in_progress", "error"])
        }
    }

    @Test func stepSleepingPastItsTimeoutFailsAsTimeoutAndIsRetried() async throws {
        try await PipelineHarness.run(extraTemplates: [Self.timeoutTemplate]) { harness in
            let reply = try await harness.submit("slow", context: ["even_number": 2, "sleep_ms": ["nap": 3_000], "run": .string(UUID().uuidString)])
            let detail = try await harness.waitForTask(try #require(reply.taskID))
            #expect(detail.task.state == .error)
            let step = try #require(detail.step(named: "nap"))
            #expect(step.attempts == 2)
            #expect(step.lastError?["kind"] == "timeout")
            #expect(detail.stepTransitions[step.id]?.map(\.toState) == [
                "pending", "enqueued", "in_progress", "waiting_for_retry", "enqueued", "in_progress", "error",
            ])
        }
    }
}
