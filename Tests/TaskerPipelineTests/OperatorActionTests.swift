import Foundation
import TaskerAMQP
import TaskerCore
import TaskerPostgres
import TaskerServices
import TaskerTestSupport
import Testing

/// Operator actions end to end: ``OperatorActions`` against a running pipeline (coordinator,
/// finalizer, reenqueuer, workers) on the real PostgreSQL and RabbitMQ.
@Suite(.serialized, .timeLimit(.minutes(3))) struct OperatorActionTests {
    func actions(_ harness: PipelineHarness, connection: AMQPConnection?) -> OperatorActions {
        OperatorActions(
            database: harness.store.database, connection: connection,
            configuration: .init(topology: harness.topology, events: .all), logger: harness.logger)
    }

    func command(_ task: UUID, _ action: OperatorCommand.Action) -> OperatorCommand {
        OperatorCommand(taskID: task, action: action, actor: "pipeline-test", reason: "end to end")
    }

    /// Runs `body` with operator actions that publish on their own broker connection.
    func withActions<T: Sendable>(_ harness: PipelineHarness, _ body: @Sendable (OperatorActions) async throws -> T) async throws -> T {
        try await AMQPConnection.withConnection(configuration: harness.amqp, logger: harness.logger) { connection in
            try await body(actions(harness, connection: connection))
        }
    }

    @Test func aFailedTaskRetriedRunsItsStepAgainWithAFreshBudgetAndCompletes() async throws {
        try await PipelineHarness.run { harness in
            // branch_b fails its first three attempts: the task fails after max_attempts (3).
            let reply = try await harness.submit(
                "diamond", context: ["even_number": 2, "fail_times": ["branch_b": 3], "run": .string(UUID().uuidString)])
            let taskID = try #require(reply.taskID)
            let failed = try await harness.waitForTask(taskID)
            #expect(failed.task.state == .error)
            #expect(failed.step(named: "branch_b")?.attempts == 3)

            let outcome = try await withActions(harness) { try await $0.perform(command(taskID, .retryTask)) }
            #expect(outcome.status == .applied)
            let detail = try await harness.waitForTask(taskID)
            #expect(detail.task.state == .complete)
            #expect(detail.taskTransitions.map(\.toState) == ["pending", "in_progress", "error", "pending", "in_progress", "complete"])
            let branch = try #require(detail.step(named: "branch_b"))
            #expect(branch.attempts == 4 && branch.attemptBase == 3)
            #expect(detail.step(named: "end")?.results?["value"] == .int(65_536))
            #expect(detail.operatorActions.map(\.action) == ["retry_task"])
            #expect(detail.operatorActions.first?.actor == "pipeline-test")
            let again = try await withActions(harness) { try await $0.perform(command(taskID, .retryTask)) }
            #expect(again.status == .refused)
        }
    }

    @Test func aStepRetriedThatKeepsFailingUsesItsFreshBudgetThenFailsAgain() async throws {
        try await PipelineHarness.run { harness in
            let reply = try await harness.submit("linear", context: ["even_number": 2, "always_fail": ["step_2"], "run": .string(UUID().uuidString)])
            let taskID = try #require(reply.taskID)
            #expect(try await harness.waitForTask(taskID).task.state == .error)
            let outcome = try await withActions(harness) { try await $0.perform(command(taskID, .retryStep(.name("step_2")))) }
            #expect(outcome.status == .applied)
            let detail = try await harness.waitForTask(taskID)
            #expect(detail.task.state == .error)
            let step = try #require(detail.step(named: "step_2"))
            #expect(step.attempts == 6, "three more attempts: the budget restarted")
            #expect(step.lastError?["attempt"] == 6)
        }
    }

    @Test func aFailedStepResolvedByHandFeedsItsResultsToItsChildren() async throws {
        try await PipelineHarness.run { harness in
            let reply = try await harness.submit(
                "diamond", context: ["even_number": 2, "fail_permanently": ["branch_b"], "run": .string(UUID().uuidString)])
            let taskID = try #require(reply.taskID)
            #expect(try await harness.waitForTask(taskID).task.state == .error)
            let outcome = try await withActions(harness) {
                try await $0.perform(command(taskID, .resolveStep(.name("branch_b"), results: ["value": 7])))
            }
            #expect(outcome.status == .applied)
            let detail = try await harness.waitForTask(taskID)
            #expect(detail.task.state == .complete)
            let c = try #require(detail.step(named: "branch_c")?.results?["value"]?.intValue)
            let input = 7 * c % ExpectedResults.prime
            #expect(detail.step(named: "end")?.results?["value"] == .int(input * input % ExpectedResults.prime))
            #expect(detail.step(named: "branch_b")?.state == .resolvedManually)
        }
    }

    @Test func cancellingStopsTheRunningHandlerAndItsResultIsNeverRecorded() async throws {
        var options = PipelineHarness.Options()
        options.workerConcurrency = 1
        try await PipelineHarness.run(options: options) { harness in
            // step_1 sleeps 20 s in the only worker slot.
            let reply = try await harness.submit(
                "linear", context: ["even_number": 2, "sleep_ms": ["step_1": 20_000], "run": .string(UUID().uuidString)])
            let taskID = try #require(reply.taskID)
            _ = try await harness.waitUntil(taskID) { $0.step(named: "step_1")?.state == .inProgress }

            let cancelledAt = ContinuousClock.now
            let outcome = try await withActions(harness) { try await $0.perform(command(taskID, .cancelTask)) }
            #expect(outcome.status == .applied)
            #expect(outcome.steps.map(\.stepName).sorted() == ["step_1", "step_2", "step_3", "step_4"])

            // The slot frees at once only if the sleeping handler was cancelled: a second task runs
            // on the same worker long before the 20 s are over.
            let next = try await harness.submit("linear", context: ["even_number": 4, "run": .string(UUID().uuidString)])
            let done = try await harness.waitForTask(try #require(next.taskID), timeout: .seconds(15))
            #expect(done.task.state == .complete)
            #expect(ContinuousClock.now - cancelledAt < .seconds(15))

            let detail = try await harness.store.fetchTask(taskID)
            #expect(detail.task.state == .cancelled)
            let step = try #require(detail.step(named: "step_1"))
            #expect(detail.stepTransitions[step.id]?.map(\.toState) == ["pending", "enqueued", "in_progress", "cancelled"])
            #expect(detail.steps.allSatisfy { $0.state == .cancelled })
        }
    }

    @Test func withoutABrokerConnectionTheOutboxRelayPublishesTheAction() async throws {
        try await PipelineHarness.run { harness in
            let reply = try await harness.submit(
                "linear", context: ["even_number": 2, "fail_permanently": ["step_3"], "run": .string(UUID().uuidString)])
            let taskID = try #require(reply.taskID)
            #expect(try await harness.waitForTask(taskID).task.state == .error)
            let outcome = try await actions(harness, connection: nil).perform(
                command(taskID, .resolveStep(.name("step_3"), results: ["value": 3])))
            #expect(outcome.status == .applied)
            // The dispatch of step_4 waits in the outbox until the reenqueuer's relay (rows older than 5 s).
            let detail = try await harness.waitForTask(taskID, timeout: .seconds(30))
            #expect(detail.task.state == .complete)
            #expect(detail.step(named: "step_4")?.results?["value"] == 9)
        }
    }
}
