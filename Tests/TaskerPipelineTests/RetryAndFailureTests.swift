import Foundation
import Testing
import TaskerAMQP
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

    @Test func aWaitingTaskAnnouncesWhyOnTheEventsExchange() async throws {
        try await PipelineHarness.run { harness in
            try await AMQPConnection.withConnection(configuration: harness.amqp, logger: harness.logger) { connection in
                let deliveries = try await harness.consumeEvents(
                    ["workflow.no_viable_steps", "workflow.task_reenqueue_delayed", "workflow.task_reenqueue_requested"],
                    named: "test-waiting", on: connection)
                var events = deliveries.makeAsyncIterator()

                let reply = try await harness.submit("diamond", context: ["even_number": 2, "fail_once": ["branch_b"], "run": .string(UUID().uuidString)])
                let taskID = try #require(reply.taskID)
                #expect(try await harness.waitForTask(taskID).task.state == .complete)

                var seen: [String: JSONValue] = [:]
                while seen.count < 3, let delivery = try await events.next() {
                    try delivery.ack()
                    let payload = try JSONValue.parse(Data(delivery.body))
                    guard payload["task_id"]?.stringValue.flatMap(UUID.init(uuidString:)) == taskID, let name = payload["event"]?.stringValue else { continue }
                    seen[name] = payload
                }
                // branch_b failed and waited for its retry; branch_c's completion could not start
                // `end` alone; the reenqueuer then sent branch_b again.
                #expect(seen["workflow.task_reenqueue_delayed"]?["details"]?["steps_waiting"] == .int(1))
                #expect(seen["workflow.task_reenqueue_delayed"]?["details"]?["next_retry_at"]?.doubleValue != nil)
                #expect(seen["workflow.no_viable_steps"] != nil)
                #expect(seen["workflow.task_reenqueue_requested"]?["details"]?["steps"] == .int(1))
            }
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
