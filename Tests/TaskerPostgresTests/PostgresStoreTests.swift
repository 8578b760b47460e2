import Foundation
import Synchronization
import PostgresNIO
import TaskerTestSupport
import Testing
import TaskerCore
import TaskerPostgres

/// The pipeline's database logic, driven directly (no broker): idempotency and fan-in.
/// Each test gets its own database: the sweeper, reenqueuer and relay act on every row.
@Suite(.timeLimit(.minutes(2))) struct PostgresStoreTests {
    let now = Date()

    func started(_ store: PostgresStore) async throws -> (TaskDetail, PostgresStore.Start) {
        let template = try uniqueTemplate()
        try await store.registerTemplate(template)
        let start = try await store.startTask(try plan(template, context: ["even_number": 2, "n": .string(UUID().uuidString)]), now: now)
        return (try await store.fetchTask(start.creation.taskID), start)
    }

    func result(_ kind: StepResultMessage.Kind, _ step: StoredStep, attempt: Int = 1, value: Int64 = 4, errorKind: FailureKind? = nil) -> StepResultMessage {
        StepResultMessage(
            kind: kind, taskID: step.taskID, stepID: step.id, stepName: step.name, attempt: attempt, workerID: "test",
            occurredAt: now, results: kind == .completed ? ["value": .int(value)] : nil, durationMs: 1,
            errorMessage: kind == .failed ? "boom" : nil, errorKind: errorKind)
    }

    @Test func startDispatchesRootsAndWritesTheOutbox() async throws {
        try await withIsolatedStore { tasks in
            let store = PostgresStore(database: tasks.database, topology: WireTopology(prefix: "t"), logger: testLogger)
            let (detail, start) = try await started(store)
            #expect(detail.task.state == .inProgress)
            #expect(detail.steps.map(\.state) == [.enqueued, .pending, .pending, .pending])
            let types = start.outbox.map(\.message.type)
            #expect(types.filter { $0 == "workflow.viable_steps_discovered" }.count == 1)
            #expect(Set(types).isSuperset(of: ["task.created", "task.started", "step.enqueued"]))
            let dispatch = try #require(start.outbox.first { $0.message.type == "workflow.viable_steps_discovered" })
            let decoded = try WireCoding.decode(StepDispatch.self, from: dispatch.message.body)
            #expect(decoded.stepName == "start" && decoded.attempt == 1 && decoded.context["even_number"] == 2)
            #expect(dispatch.message.routingKey == detail.task.template.namespace)
            try await store.deleteOutbox(start.outbox.map(\.id))
        }
    }

    @Test func taskLevelEventsLeaveStepEventsOutOfTheOutbox() async throws {
        try await withIsolatedStore { tasks in
            let store = PostgresStore(database: tasks.database, topology: WireTopology(prefix: "t"), events: .task, logger: testLogger)
            let (detail, start) = try await started(store)
            #expect(start.outbox.map(\.message.type).sorted() == ["task.created", "task.started", "workflow.viable_steps_discovered"])
            // A retryable failure: of the step events, only the one that wakes the reenqueuer is
            // published in every mode; the task-level workflow event says the task waits for it.
            let root = detail.steps[0]
            let failed = try await store.recordResult(result(.failed, root, errorKind: .retryable), now: now)
            #expect(failed.outbox.map(\.message.type) == ["step.retry_scheduled", "workflow.task_reenqueue_delayed"])
        }
    }

    @Test func aBatchStoresEachIdentityOnceSkipsUnregisteredTemplatesAndDeadlinesFollowEachStep() async throws {
        try await withIsolatedStore { tasks in
            let store = PostgresStore(database: tasks.database, topology: WireTopology(prefix: "t"), logger: testLogger)
            let twoRoots = try twoRootsTemplate()
            let unregistered = try uniqueTemplate()
            try await store.registerTemplate(twoRoots)
            let first = try plan(twoRoots, context: ["even_number": 2])
            let sameIdentity = try plan(twoRoots, context: ["even_number": 2])
            let other = try plan(twoRoots, context: ["even_number": 4])
            let orphan = try plan(unregistered)

            // The one-call start (migration 0018) refuses this batch, writing nothing (were `first`
            // stored by it, the transaction that follows would find it a duplicate of itself).
            let batch = try await store.startTasks([first, sameIdentity, other, orphan], now: now)
            let creations = batch.creations.map { $0.map { [$0.taskID.uuidString, "\($0.duplicate)"] } }
            #expect(creations == [
                [first.taskID.uuidString, "false"], [first.taskID.uuidString, "true"], [other.taskID.uuidString, "false"], nil,
            ])
            let types = batch.outbox.map(\.message.type)
            #expect(types.filter { $0 == "workflow.viable_steps_discovered" }.count == 4)  // two roots of each stored task
            #expect(types.filter { $0 == "task.request_deduplicated" }.count == 1)
            await #expect(throws: StoreError.self) { try await store.fetchTask(sameIdentity.taskID) }
            await #expect(throws: StoreError.self) { try await store.fetchTask(orphan.taskID) }

            let detail = try await store.fetchTask(first.taskID)
            #expect(detail.task.state == .inProgress)
            #expect(detail.taskTransitions.map(\.toState) == ["pending", "in_progress"])
            #expect(detail.steps.map(\.state) == [.enqueued, .enqueued])
            // Each enqueued step's deadline allows for its own timeout, not the batch's longest.
            let rows = try await tasks.client.query(
                "SELECT name, extract(epoch FROM deadline)::float8 FROM steps WHERE task_id = \(first.taskID)", logger: testLogger)
            var deadlines: [String: Double] = [:]
            for try await (name, deadline) in rows.decode((String, Double).self) { deadlines[name] = deadline }
            #expect(abs((deadlines["quick"] ?? 0) - now.addingTimeInterval(5).timeIntervalSince1970) < 0.01)
            #expect(abs((deadlines["slow"] ?? 0) - now.addingTimeInterval(100).timeIntervalSince1970) < 0.01)
        }
    }

    @Test func oneBatchOfResultsAcrossTasksFinishesEachOnceAndIgnoresItsDuplicates() async throws {
        try await withIsolatedStore { tasks in
            let store = PostgresStore(database: tasks.database, topology: WireTopology(prefix: "t"), logger: testLogger)
            let single = try uniqueTemplate("""
                name: single
                namespace: NAMESPACE
                version: 1.0.0
                identity_strategy: always_unique
                steps:
                  - { name: only, handler: square }
                """)
            try await store.registerTemplate(single)
            let plans = try (0..<3).map { _ in try plan(single) }
            _ = try await store.startTasks(plans, now: now)
            var steps: [StoredStep] = []
            for plan in plans { steps += try await store.fetchTask(plan.taskID).steps }
            // started + completed of every step, and a redelivered completion of the first, in one batch.
            let reports = steps.flatMap { [result(.started, $0), result(.completed, $0)] } + [result(.completed, steps[0])]
            let batch = try await store.recordResults(reports, now: now)
            #expect(batch.outcomes.filter { $0 == .applied }.count == 6)
            #expect(batch.outcomes.last != .applied)
            #expect(batch.finishedTasks == Dictionary(uniqueKeysWithValues: plans.map { ($0.taskID, TaskState.complete) }))
            for plan in plans {
                let detail = try await store.fetchTask(plan.taskID)
                #expect(detail.taskTransitions.map(\.toState) == ["pending", "in_progress", "complete"])
                let trail = try #require(detail.stepTransitions[detail.steps[0].id])
                #expect(trail.map(\.toState) == ["pending", "enqueued", "in_progress", "complete"])
                #expect(trail.map(\.sortKey) == [1, 2, 3, 4])
            }
            #expect(batch.outbox.filter { $0.message.type == "task.completed" }.count == 3)
        }
    }

    @Test func duplicateAndStaleResultsAreIgnored() async throws {
        try await withIsolatedStore { tasks in
            let store = PostgresStore(database: tasks.database, topology: WireTopology(prefix: "t"), logger: testLogger)
            let (detail, _) = try await started(store)
            let root = detail.steps[0]
            // Completion arrives before "started": the start is recorded implicitly.
            let first = try await store.recordResult(result(.completed, root), now: now)
            #expect(first.ignoredBecause == nil)
            let again = try await store.recordResult(result(.completed, root), now: now)
            #expect(again.ignoredBecause != nil && again.outbox.isEmpty)
            let lateStart = try await store.recordResult(result(.started, root), now: now)
            #expect(lateStart.ignoredBecause != nil)
            let wrongAttempt = try await store.recordResult(result(.failed, root, attempt: 2, errorKind: .retryable), now: now)
            #expect(wrongAttempt.ignoredBecause != nil)
            let after = try await store.fetchTask(detail.task.id)
            #expect(after.stepTransitions[root.id]?.map(\.toState) == ["pending", "enqueued", "in_progress", "complete"])
            #expect(after.steps[1].state == .enqueued && after.steps[2].state == .enqueued)
            #expect(after.step(named: "start")?.results == ["value": 4])
        }
    }

    @Test func concurrentParentCompletionsDispatchTheJoinExactlyOnce() async throws {
        try await withIsolatedStore { tasks in
            let store = PostgresStore(database: tasks.database, topology: WireTopology(prefix: "t"), logger: testLogger)
            for _ in 0..<10 {
                let (detail, _) = try await started(store)
                _ = try await store.recordResult(result(.completed, detail.steps[0]), now: now)
                let b = detail.steps[1], c = detail.steps[2]
                async let one = store.recordResult(result(.completed, b, value: 16), now: now)
                async let two = store.recordResult(result(.completed, c, value: 16), now: now)
                let outboxes = try await [one.outbox, two.outbox]
                let dispatches = outboxes.flatMap { $0 }.filter { $0.message.type == "workflow.viable_steps_discovered" }
                #expect(dispatches.count == 1)
                let join = try WireCoding.decode(StepDispatch.self, from: try #require(dispatches.first).message.body)
                #expect(join.stepName == "end" && join.parentResults == ["branch_b": ["value": 16], "branch_c": ["value": 16]])
                let end = try await store.fetchTask(detail.task.id).step(named: "end")!
                #expect(end.state == .enqueued)
                let finished = try await store.recordResult(result(.completed, end, value: 7), now: now)
                #expect(finished.finishedTask == .complete)
                #expect(finished.outbox.map(\.message.type).contains("task.completed"))
            }
        }
    }

    @Test func failuresRetryThenErrorAndTheTaskFails() async throws {
        try await withIsolatedStore { tasks in
            let store = PostgresStore(database: tasks.database, topology: WireTopology(prefix: "t"), logger: testLogger)
            let (detail, _) = try await started(store)
            let root = detail.steps[0]
            let failed = try await store.recordResult(result(.failed, root, errorKind: .retryable), now: now)
            #expect(failed.outbox.map(\.message.type).contains("step.retry_scheduled"))
            var step = try await store.fetchTask(detail.task.id).steps[0]
            #expect(step.state == .waitingForRetry)
            let retryAt = try #require(step.nextRetryAt)
            #expect(retryAt.timeIntervalSince(now) >= 0.9 && retryAt.timeIntervalSince(now) <= 1.1)
            #expect(try await store.reenqueueDue(now: now).isEmpty, "not due yet")
            let due = try await store.reenqueueDue(now: retryAt)
            let redispatch = try WireCoding.decode(StepDispatch.self, from: try #require(due.first { $0.message.type == "workflow.viable_steps_discovered" }).message.body)
            #expect(redispatch.attempt == 2)
            let permanent = try await store.recordResult(result(.failed, root, attempt: 2, errorKind: .permanent), now: now)
            #expect(permanent.finishedTask == .error)
            step = try await store.fetchTask(detail.task.id).steps[0]
            #expect(step.state == .error && step.attempts == 2 && step.lastError?["kind"] == "permanent")
        }
    }

    @Test func sweeperFailsAbandonedAttemptsAsTimeouts() async throws {
        try await withIsolatedStore { tasks in
            let store = PostgresStore(database: tasks.database, topology: WireTopology(prefix: "t"), logger: testLogger)
            let (detail, _) = try await started(store)
            let root = detail.steps[0]
            _ = try await store.recordResult(result(.started, root), now: now)
            let later = now.addingTimeInterval(root.timeoutSeconds + 31)
            _ = try await store.sweepExpired(now: later, grace: 30, limit: 10_000)
            let step = try await store.fetchTask(detail.task.id).steps[0]
            #expect(step.state == .waitingForRetry)
            #expect(step.lastError?["kind"] == "timeout")
        }
    }

    @Test func publishedOutboxRowsAreDeletedByTheNextBatchOrByAFlush() async throws {
        try await withIsolatedStore { tasks in
            let store = PostgresStore(database: tasks.database, topology: WireTopology(prefix: "t"), logger: testLogger)
            func rows() async throws -> Set<Int64> {
                var ids: Set<Int64> = []
                for try await id in try await store.client.query("SELECT id FROM outbox_batches", logger: testLogger).decode(Int64.self) {
                    ids.insert(id)
                }
                return ids
            }
            let (_, first) = try await started(store)
            store.deleteOutboxLater([first.outbox[0].id])
            #expect(try await rows() == [first.outbox[0].id])  // marked, not deleted yet
            let (_, second) = try await started(store)
            #expect(try await rows() == [second.outbox[0].id])  // the next batch deleted it
            store.deleteOutboxLater([second.outbox[0].id])
            try await store.flushPublishedOutbox()
            #expect(try await rows() == [])
        }
    }

    @Test func staleOutboxRowsAreRelayedAndAnUnpublishableRowDoesNotBlockTheOthers() async throws {
        try await withIsolatedStore { tasks in
            let store = PostgresStore(database: tasks.database, topology: WireTopology(prefix: "t"), logger: testLogger)
            // Two batches, two outbox rows, each holding all of its batch's messages.
            let (_, poisoned) = try await started(store)
            let (_, healthy) = try await started(store)
            #expect(Set(poisoned.outbox.map(\.id)).count == 1 && Set(healthy.outbox.map(\.id)).count == 1)
            let poison = poisoned.outbox[0].id
            let good = healthy.outbox[0].id
            let offered = Mutex<[OutboxEntry]>([])
            let pass = try await store.relayStaleOutbox(olderThan: Date().addingTimeInterval(60), limit: 100_000) { entries in
                offered.withLock { $0 += entries }
                return Set(entries.map(\.id)).subtracting([poison])
            }
            // Every message of both rows was offered, in the order it was decided.
            #expect(offered.withLock { $0.filter { $0.id == poison }.map(\.message) } == poisoned.outbox.map(\.message))
            #expect(offered.withLock { $0.filter { $0.id == good }.map(\.message) } == healthy.outbox.map(\.message))
            #expect(pass.failed == poisoned.outbox.count)
            #expect(pass.relayed == healthy.outbox.count)
            let remaining = try await store.client.query(
                "SELECT id, created_at > now() - interval '5 seconds' FROM outbox_batches WHERE id = ANY(\([poison, good]))",
                logger: testLogger)
            var left: [Int64: Bool] = [:]
            for try await (id, postponed) in remaining.decode((Int64, Bool).self) { left[id] = postponed }
            // Only the row that failed is kept, moved to the back of the queue.
            #expect(left == [poison: true])
        }
    }
}

/// A store on a brand-new, migrated database.
func withIsolatedStore(_ body: @Sendable (PostgresStore) async throws -> Void) async throws {
    try await withFreshDatabase { _, name in
        try await withStore(database: name, body)
    }
}
