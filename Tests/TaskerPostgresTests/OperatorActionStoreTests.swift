import Foundation
import PostgresNIO
import TaskerCore
import TaskerPostgres
import TaskerTestSupport
import Testing

/// Operator actions through the PostgreSQL driver (``PostgresStore/perform(_:now:)``): each
/// action, its audit trail and messages, refusals, idempotency, and races with results and
/// with each other. Every test uses its own template, so tests never share rows.
@Suite(.timeLimit(.minutes(3))) struct OperatorActionStoreTests {
    let now = Date()

    func start(_ store: PostgresStore, _ yaml: String = "") async throws -> TaskDetail {
        let template = try uniqueTemplate(yaml)
        try await store.registerTemplate(template)
        let start = try await store.startTask(try plan(template, context: ["even_number": 2, "n": .string(UUID().uuidString)]), now: now)
        return try await store.fetchTask(start.creation.taskID)
    }

    func report(
        _ kind: StepResultMessage.Kind, _ step: StoredStep, attempt: Int = 1, value: Int64 = 4, errorKind: FailureKind? = nil
    ) -> StepResultMessage {
        StepResultMessage(
            kind: kind, taskID: step.taskID, stepID: step.id, stepName: step.name, attempt: attempt, workerID: "test",
            occurredAt: now, results: kind == .completed ? ["value": .int(value)] : nil, durationMs: 1,
            errorMessage: kind == .failed ? "boom" : nil, errorKind: errorKind)
    }

    func command(_ task: UUID, _ action: OperatorCommand.Action, actor: String = "alice", reason: String = "test") -> OperatorCommand {
        OperatorCommand(taskID: task, action: action, actor: actor, reason: reason)
    }

    func perform(_ store: PostgresStore, _ command: OperatorCommand) async throws -> (OperatorOutcome, [OutboxEntry]) {
        let recording = try await store.perform([command], now: now)
        return (recording.outcomes[0], recording.outbox)
    }

    /// A diamond whose `branch_b` failed for good: the task is `error`, `end` blocked.
    func failedDiamond(_ store: PostgresStore) async throws -> TaskDetail {
        let detail = try await start(store)
        _ = try await store.recordResult(report(.completed, detail.steps[0]), now: now)
        _ = try await store.recordResult(report(.failed, detail.steps[1], errorKind: .permanent), now: now)
        _ = try await store.recordResult(report(.completed, detail.steps[2]), now: now)
        let failed = try await store.fetchTask(detail.task.id)
        #expect(failed.task.state == .error)
        return failed
    }

    // MARK: Each action

    @Test func cancellingARunningTaskRecordsWhoAndWhyAndTellsTheWorkers() async throws {
        try await withStore { store in
            let detail = try await start(store)
            _ = try await store.recordResult(report(.completed, detail.steps[0]), now: now)
            _ = try await store.recordResult(report(.started, detail.steps[1]), now: now)

            let (outcome, outbox) = try await perform(store, command(detail.task.id, .cancelTask, actor: "alice", reason: "wrong input"))
            #expect(outcome.status == .applied)
            let after = try await store.fetchTask(detail.task.id)
            #expect(after.task.state == .cancelled)
            #expect(after.task.completedAt != nil)
            #expect(after.steps.map(\.state) == [.complete, .cancelled, .cancelled, .cancelled])
            let move = try #require(after.taskTransitions.last)
            #expect(move.fromState == "in_progress" && move.toState == "cancelled" && move.mostRecent)
            #expect(move.metadata["actor"] == "alice" && move.metadata["reason"] == "wrong input")
            #expect(move.metadata["action_id"]?.stringValue == outcome.actionID?.uuidString.lowercased())
            #expect(after.stepTransitions[detail.steps[1].id]?.last?.metadata["action"] == "cancel_task")
            #expect(after.operatorActions.map(\.action) == ["cancel_task"])
            #expect(after.operatorActions.first?.actor == "alice" && after.operatorActions.first?.reason == "wrong input")
            try await expectCountsMatchSteps(store, detail.task.id)

            // Both in-flight attempts (one running, one enqueued) are told to stop, routed by namespace.
            let cancels = outbox.filter { $0.message.type == StepCancellation.messageType }
            #expect(cancels.count == 2)
            #expect(cancels.allSatisfy { $0.message.exchange == "tasker.control" && $0.message.routingKey == detail.task.template.namespace })
            let decoded = try cancels.map { try WireCoding.decode(StepCancellation.self, from: $0.message.body) }
            #expect(Set(decoded.map(\.stepName)) == ["branch_b", "branch_c"])
            #expect(decoded.allSatisfy { $0.attempt == 1 && $0.reason == "wrong input" })
            #expect(outbox.map(\.message.type).contains("task.cancelled"))

            // A result that arrives afterwards is acknowledged and ignored.
            let late = try await store.recordResult(report(.completed, detail.steps[1]), now: now)
            #expect(late.ignoredBecause?.contains("cancelled") == true)
            #expect(try await store.fetchTask(detail.task.id) == after)

            // Repeating changes nothing and says so.
            let (again, againOutbox) = try await perform(store, command(detail.task.id, .cancelTask, actor: "bob", reason: "again"))
            #expect(again.status == .alreadyApplied && againOutbox.isEmpty)
            #expect(try await store.fetchTask(detail.task.id) == after)
        }
    }

    @Test func retryingAFailedTaskRunsItAgainWithAFreshBudgetAndItCompletes() async throws {
        try await withStore { store in
            let failed = try await failedDiamond(store)
            let (outcome, outbox) = try await perform(store, command(failed.task.id, .retryTask, reason: "fixed upstream"))
            #expect(outcome.status == .applied)
            #expect(outcome.taskState == .inProgress)
            let retried = try await store.fetchTask(failed.task.id)
            #expect(retried.task.state == .inProgress && retried.task.completedAt == nil)
            #expect(retried.taskTransitions.map(\.toState) == ["pending", "in_progress", "error", "pending", "in_progress"])
            #expect(retried.taskTransitions.map(\.sortKey) == [1, 2, 3, 4, 5])
            #expect(retried.taskTransitions.filter(\.mostRecent).map(\.sortKey) == [5])
            let branch = try #require(retried.step(named: "branch_b"))
            #expect(branch.state == .enqueued && branch.attempts == 1 && branch.attemptBase == 1 && branch.maxAttempts == 4)
            #expect(retried.stepTransitions[branch.id]?.suffix(2).map(\.toState) == ["pending", "enqueued"])
            try await expectCountsMatchSteps(store, failed.task.id)

            let dispatch = try #require(outbox.first { $0.message.type == "workflow.viable_steps_discovered" })
            let sent = try WireCoding.decode(StepDispatch.self, from: dispatch.message.body)
            #expect(sent.stepName == "branch_b" && sent.attempt == 2 && sent.maxAttempts == 4)
            #expect(sent.parentResults == ["start": ["value": 4]])
            #expect(outbox.map(\.message.type).contains("task.retry_requested"))

            // A late copy of the failed attempt cannot pass for the new one.
            let stale = try await store.recordResult(report(.failed, branch, attempt: 1, errorKind: .permanent), now: now)
            #expect(stale.ignoredBecause != nil)
            _ = try await store.recordResult(report(.completed, branch, attempt: 2), now: now)
            let end = try #require(try await store.fetchTask(failed.task.id).step(named: "end"))
            #expect(end.state == .enqueued)
            let finished = try await store.recordResult(report(.completed, end), now: now)
            #expect(finished.finishedTask == .complete)
            #expect(try await perform(store, command(failed.task.id, .retryTask)).0.status == .refused)
        }
    }

    @Test func resolvingAFailedStepHandsItsResultsToItsChildren() async throws {
        try await withStore { store in
            let failed = try await failedDiamond(store)
            let (outcome, outbox) = try await perform(
                store, command(failed.task.id, .resolveStep(.name("branch_b"), results: ["value": 7]), reason: "computed by hand"))
            #expect(outcome.status == .applied)
            #expect(outcome.steps.map(\.stepName).sorted() == ["branch_b", "end"])
            let after = try await store.fetchTask(failed.task.id)
            let branch = try #require(after.step(named: "branch_b"))
            #expect(branch.state == .resolvedManually && branch.results == ["value": 7])
            #expect(after.step(named: "end")?.state == .enqueued)
            #expect(after.task.state == .inProgress)
            let dispatch = try #require(outbox.first { $0.message.type == "workflow.viable_steps_discovered" })
            let sent = try WireCoding.decode(StepDispatch.self, from: dispatch.message.body)
            #expect(sent.stepName == "end" && sent.parentResults == ["branch_b": ["value": 7], "branch_c": ["value": 4]])
            #expect(after.operatorActions.first?.results == ["value": 7])
            try await expectCountsMatchSteps(store, failed.task.id)

            let (again, _) = try await perform(store, command(failed.task.id, .resolveStep(.name("branch_b"), results: ["value": 9])))
            #expect(again.status == .alreadyApplied)
            #expect(try await store.fetchTask(failed.task.id).step(named: "branch_b")?.results == ["value": 7])
        }
    }

    @Test func resolvingAFailedTaskAndTheRefusals() async throws {
        try await withStore { store in
            let running = try await start(store)
            let (refused, _) = try await perform(store, command(running.task.id, .resolveTask))
            #expect(refused.status == .refused && refused.message.contains("in_progress"))
            let (busy, _) = try await perform(store, command(running.task.id, .resolveStep(.name("start"), results: [:])))
            #expect(busy.status == .refused && busy.message.contains("enqueued"))
            let (missing, _) = try await perform(store, command(UUID(), .cancelTask))
            #expect(missing.status == .notFound)
            let (noStep, _) = try await perform(store, command(running.task.id, .retryStep(.name("nope"))))
            #expect(noStep.status == .notFound)
            let (invalid, _) = try await perform(store, command(running.task.id, .cancelTask, actor: ""))
            #expect(invalid.status == .invalid)
            #expect(try await store.fetchTask(running.task.id) == running, "nothing refused changed anything")

            let failed = try await failedDiamond(store)
            let (resolved, outbox) = try await perform(store, command(failed.task.id, .resolveTask, actor: "ops", reason: "done offline"))
            #expect(resolved.status == .applied)
            let after = try await store.fetchTask(failed.task.id)
            #expect(after.task.state == .resolvedManually && after.task.completedAt != nil)
            #expect(after.step(named: "branch_b")?.state == .error, "steps keep their states")
            #expect(outbox.map(\.message.type).contains("task.resolved_manually"))
            #expect(try await perform(store, command(failed.task.id, .resolveTask)).0.status == .alreadyApplied)
            #expect(try await store.operatorActions(of: failed.task.id).count == 1)
        }
    }

    @Test func theActionAuditTrailIsAppendOnly() async throws {
        try await withStore { store in
            let detail = try await start(store)
            _ = try await perform(store, command(detail.task.id, .cancelTask))
            await #expect(throws: (any Error).self) {
                try await store.client.query("UPDATE operator_actions SET actor = 'mallory' WHERE task_id = \(detail.task.id)", logger: testLogger)
            }
            await #expect(throws: (any Error).self) {
                try await store.client.query("DELETE FROM operator_actions WHERE task_id = \(detail.task.id)", logger: testLogger)
            }
            #expect(try await store.operatorActions(of: detail.task.id).map(\.actor) == ["alice"])
        }
    }

    // MARK: Races

    @Test func concurrentIdenticalActionsApplyOnceAndAuditOnce() async throws {
        try await withStore { store in
            let running = try await start(store)
            let failed = try await failedDiamond(store)
            let commands = (0..<16).map { index in
                index.isMultiple(of: 2)
                    ? command(running.task.id, .cancelTask, actor: "op\(index)") : command(failed.task.id, .retryTask, actor: "op\(index)")
            }
            let at = now
            let outcomes = try await withThrowingTaskGroup(of: [OperatorOutcome].self) { group in
                for command in commands { group.addTask { try await store.perform([command], now: at).outcomes } }
                var all: [OperatorOutcome] = []
                for try await outcome in group { all += outcome }
                return all
            }
            for task in [running.task.id, failed.task.id] {
                let mine = outcomes.filter { $0.taskID == task }
                #expect(mine.filter { $0.status == .applied }.count == 1)
                #expect(mine.filter { $0.status == .alreadyApplied }.count == 7)
                #expect(try await store.operatorActions(of: task).count == 1)
                try await expectCountsMatchSteps(store, task)
            }
            let cancelled = try await store.fetchTask(running.task.id)
            #expect(cancelled.taskTransitions.filter { $0.toState == "cancelled" }.count == 1)
            let retried = try await store.fetchTask(failed.task.id)
            #expect(retried.taskTransitions.map(\.toState) == ["pending", "in_progress", "error", "pending", "in_progress"])
            let branch = try #require(retried.step(named: "branch_b"))
            #expect(retried.stepTransitions[branch.id]?.filter { $0.toState == "enqueued" }.count == 2, "first attempt and the retry")
        }
    }

    @Test func aCancellationRacingWithResultsLeavesNoStepMovingAfterIt() async throws {
        try await withStore { store in
            for round in 0..<12 {
                let detail = try await start(store)
                _ = try await store.recordResult(report(.completed, detail.steps[0]), now: now)
                let (b, c) = (detail.steps[1], detail.steps[2])
                async let first = store.recordResults([report(.started, b), report(.completed, b)], now: now)
                async let second = store.recordResults([report(.completed, c)], now: now)
                async let cancel = perform(store, command(detail.task.id, .cancelTask, reason: "race \(round)"))
                let (one, two, (outcome, _)) = try await (first, second, cancel)
                // The task never ends by itself here (end is never reported): the cancel always applies,
                // before, between or after the results.
                #expect(outcome.status == .applied)
                let after = try await store.fetchTask(detail.task.id)
                try await expectCountsMatchSteps(store, detail.task.id)
                #expect(after.task.state == .cancelled)
                #expect(after.steps.allSatisfy { !$0.state.countsAsActive && $0.state != .pending })
                // Whatever the order, nothing moved after the cancellation: a cancelled step's cancel is
                // its last row, and a result decided after it was ignored.
                for step in after.steps where step.state == .cancelled {
                    #expect(after.stepTransitions[step.id]?.last?.toState == "cancelled")
                }
                let applied = (one.outcomes + two.outcomes).filter { $0 == .applied }.count
                // Reports decided before the cancel were applied (branch_b: started and completed), the others ignored.
                let bDone = after.step(named: "branch_b")?.state == .complete, cDone = after.step(named: "branch_c")?.state == .complete
                #expect(applied == (bDone ? 2 : 0) + (cDone ? 1 : 0))
                #expect(try await store.operatorActions(of: detail.task.id).count == 1)
            }
        }
    }

    @Test func aResolutionRacingWithTheFinalizerDispatchesTheJoinExactlyOnce() async throws {
        try await withStore { store in
            for _ in 0..<12 {
                let detail = try await start(store)
                _ = try await store.recordResult(report(.completed, detail.steps[0]), now: now)
                let (b, c) = (detail.steps[1], detail.steps[2])
                _ = try await store.recordResult(report(.failed, b, errorKind: .permanent), now: now)
                // branch_c completing alone would fail the task (branch_b failed); resolving branch_b
                // alone would leave it running. Together, in either order: end runs once.
                async let completion = store.recordResults([report(.completed, c)], now: now)
                async let resolution = perform(store, command(detail.task.id, .resolveStep(.name("branch_b"), results: ["value": 5])))
                let (recorded, (outcome, outbox)) = try await (completion, resolution)
                #expect(outcome.status == .applied)
                let dispatches = (recorded.outbox + outbox).filter { $0.message.type == "workflow.viable_steps_discovered" }
                #expect(dispatches.count == 1)
                let after = try await store.fetchTask(detail.task.id)
                #expect(after.task.state == .inProgress)
                let end = try #require(after.step(named: "end"))
                #expect(end.state == .enqueued)
                #expect(after.stepTransitions[end.id]?.map(\.toState) == ["pending", "enqueued"])
                #expect(after.taskTransitions.filter(\.mostRecent).count == 1)
                try await expectCountsMatchSteps(store, detail.task.id)
            }
        }
    }

    /// The task's stored step counts equal a recount of its steps' states (the core keeps them).
    func expectCountsMatchSteps(_ store: PostgresStore, _ task: UUID, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let rows = try await store.client.query(
            """
            SELECT t.steps_done, t.steps_error, t.steps_active,
                   (SELECT count(*) FROM steps s WHERE s.task_id = t.id AND s.state IN ('complete', 'resolved_manually'))::int,
                   (SELECT count(*) FROM steps s WHERE s.task_id = t.id AND s.state = 'error')::int,
                   (SELECT count(*) FROM steps s WHERE s.task_id = t.id AND s.state IN ('enqueued', 'in_progress', 'waiting_for_retry'))::int
            FROM tasks t WHERE t.id = \(task)
            """,
            logger: testLogger)
        for try await (done, failed, active, doneNow, failedNow, activeNow) in rows.decode((Int, Int, Int, Int, Int, Int).self) {
            let stored: [Int] = [done, failed, active], recounted: [Int] = [doneNow, failedNow, activeNow]
            #expect(stored == recounted, "stored counts vs steps", sourceLocation: sourceLocation)
        }
    }
}
