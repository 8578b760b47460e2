import Foundation
import Testing
import TaskerCore
import TaskerTestSupport

/// Operator commands decided by ``WorkflowMachine/perform(_:snapshot:)`` over the in-memory
/// driver: each action, its refusals, its idempotency, and what happens to late results.
@Suite struct OperatorCommandTests {
    /// A task in the in-memory store with simulated workers.
    struct Bench {
        var store = InMemoryWorkflowStore()
        var worker: Worker
        var ids = IDSource(seed: 11)
        var generator = SplitMix64(seed: 5)
        let machine = WorkflowMachine(now: Date(timeIntervalSince1970: 5_000), makeEventID: { UUID() })
        var taskID = UUID()

        init(_ template: String = "diamond", failures: [String: Failure] = [:]) {
            worker = Worker(failures: failures)
            let loaded = InterleavingTests.templates.first { $0.name == template }!
            taskID = ids.next()
            var ids = self.ids
            store.startTask(loaded, id: taskID, context: ["even_number": 2], makeID: { ids.next() })
            self.ids = ids
        }

        /// Works every dispatch (and due retry) until nothing is left.
        mutating func runToQuiescence() async {
            while let reports = worker.work(&store) { await store.recordResults(reports, machine: machine, using: &generator) }
        }

        /// Works only the next `count` dispatches.
        mutating func work(_ count: Int) async {
            for _ in 0..<count {
                guard let reports = worker.work(&store) else { return }
                await store.recordResults(reports, machine: machine, using: &generator)
            }
        }

        /// Runs the latest dispatch of one step (as the worker that took it would).
        mutating func workStep(_ name: String) async {
            let dispatch = store.dispatches.last { $0.stepName == name }!
            await store.recordResults(worker.reports(for: dispatch, in: store), machine: machine, using: &generator)
        }

        @discardableResult
        mutating func perform(_ action: OperatorCommand.Action, actor: String = "alice", reason: String = "test") async -> OperatorOutcome {
            let effects = await store.perform([OperatorCommand(taskID: taskID, action: action, actor: actor, reason: reason)], machine: machine)
            for event in effects.events { #expect(event.missingKeys.isEmpty, "\(event.event) lacks \(event.missingKeys)") }
            return effects.actions[0]
        }

        func step(_ name: String) -> InMemoryWorkflowStore.Step { store.steps.values.first { $0.name == name }! }
        var task: InMemoryWorkflowStore.Task { store.tasks[taskID]! }
        var states: [String: StepState] { Dictionary(uniqueKeysWithValues: store.steps.values.map { ($0.name, $0.state) }) }

        func report(_ kind: StepResultMessage.Kind, _ name: String, attempt: Int, errorKind: FailureKind? = nil) -> StepResultMessage {
            let step = self.step(name)
            return StepResultMessage(
                kind: kind, taskID: taskID, stepID: step.id, stepName: name, attempt: attempt, workerID: "w",
                occurredAt: Date(timeIntervalSince1970: 5_000), results: kind == .completed ? ["value": 4] : nil,
                errorMessage: kind == .failed ? "boom" : nil, errorKind: errorKind)
        }
    }

    // MARK: Cancel

    @Test func cancellingARunningTaskCancelsItsUnfinishedStepsAndTellsWorkers() async {
        var bench = Bench()
        await bench.work(1)  // start completes; both branches are dispatched
        let outcome = await bench.perform(.cancelTask, actor: "alice", reason: "wrong input")
        #expect(outcome.status == .applied)
        #expect(outcome.taskState == .cancelled)
        #expect(bench.task.state == .cancelled)
        #expect(bench.task.trail.map(\.description).suffix(1) == ["in_progress→cancelled"])
        #expect(bench.states == ["start": .complete, "branch_b": .cancelled, "branch_c": .cancelled, "end": .cancelled])
        #expect(Set(bench.store.cancellations.map(\.stepName)) == ["branch_b", "branch_c"], "only dispatched attempts are told")
        #expect(bench.store.cancellations.allSatisfy { $0.attempt == 1 && $0.reason == "wrong input" })
        #expect(Set(outcome.steps.map(\.stepName)) == ["branch_b", "branch_c", "end"])
        #expect(bench.store.operatorRecords.map(\.action) == ["cancel_task"])
        #expect(bench.store.operatorRecords.first?.actor == "alice")
        #expect(bench.task.progress == TaskProgress(total: 4, done: 1, failed: 0, active: 0))

        // A late result of a cancelled attempt is acknowledged and ignored.
        let late = await bench.store.recordResults(
            [bench.report(.started, "branch_b", attempt: 1), bench.report(.completed, "branch_b", attempt: 1)],
            machine: bench.machine, using: &bench.generator)
        #expect(late.outcomes.allSatisfy { if case .ignored(let reason) = $0 { reason.contains("cancelled") } else { false } })
        #expect(late.transitions.isEmpty && late.dispatch.isEmpty && late.taskMoves.isEmpty)
        #expect(bench.step("branch_b").state == .cancelled)
    }

    @Test func cancellingTwiceChangesNothingTheSecondTime() async {
        var bench = Bench()
        await bench.perform(.cancelTask)
        let before = bench.store
        let again = await bench.perform(.cancelTask, actor: "bob", reason: "double click")
        #expect(again.status == .alreadyApplied)
        #expect(again.message == "task is already cancelled")
        #expect(bench.store == before)
    }

    @Test func finishedAndFailedTasksAreNotCancelled() async {
        var done = Bench()
        await done.runToQuiescence()
        #expect(done.task.state == .complete)
        let refused = await done.perform(.cancelTask)
        #expect(refused.status == .refused)
        #expect(refused.message.contains("complete"))

        var failed = Bench(failures: ["branch_b": .permanent])
        await failed.runToQuiescence()
        #expect(failed.task.state == .error)
        #expect(await failed.perform(.cancelTask).status == .refused)
        #expect(failed.task.state == .error)
    }

    // MARK: Retry

    @Test func retryingAFailedTaskRunsItsFailedStepsAgainAndTheTaskCompletes() async {
        var bench = Bench(failures: ["branch_b": .permanent])
        await bench.runToQuiescence()
        #expect(bench.states == ["start": .complete, "branch_b": .error, "branch_c": .complete, "end": .pending])
        let dispatched = bench.store.dispatches.count

        let outcome = await bench.perform(.retryTask, reason: "fixed the bug")
        #expect(outcome.status == .applied)
        #expect(outcome.taskState == .inProgress)
        #expect(outcome.steps.map { "\($0.stepName) \($0.from.rawValue)→\($0.to.rawValue)" } == ["branch_b error→enqueued"])
        #expect(bench.task.trail.map(\.description).suffix(3) == ["in_progress→error", "error→pending", "pending→in_progress"])
        let retry = bench.store.dispatches[dispatched...]
        #expect(retry.map(\.stepName) == ["branch_b"])
        #expect(retry.first?.attempt == 2, "attempt numbers keep counting")
        #expect(bench.step("branch_b").attemptBase == 1)

        await bench.runToQuiescence()
        #expect(bench.task.state == .complete)
        #expect(bench.states.values.allSatisfy { $0 == .complete })
        #expect(bench.step("branch_b").trail.map(\.description) == [
            "→pending", "pending→enqueued", "enqueued→in_progress", "in_progress→error", "error→pending", "pending→enqueued",
            "enqueued→in_progress", "in_progress→complete",
        ])
        #expect(await bench.perform(.retryTask).status == .refused)
    }

    @Test func aRetriedStepGetsAFreshBudgetAndLateResultsOfEarlierAttemptsAreIgnored() async {
        var bench = Bench()
        await bench.work(1)
        // branch_b fails three times (max_attempts 3) → error.
        for attempt in 1...3 {
            await bench.store.recordResults(
                [bench.report(.started, "branch_b", attempt: attempt), bench.report(.failed, "branch_b", attempt: attempt, errorKind: .retryable)],
                machine: bench.machine, using: &bench.generator)
            if attempt < 3 { bench.store.reenqueueWaiting() }
        }
        #expect(bench.step("branch_b").state == .error)
        #expect(await bench.perform(.retryStep(.name("branch_b"))).status == .applied)
        #expect(bench.step("branch_b").state == .enqueued)

        // A redelivered report of attempt 3 is stale: attempt 4 is the one running now.
        let stale = await bench.store.recordResults(
            [bench.report(.completed, "branch_b", attempt: 3)], machine: bench.machine, using: &bench.generator)
        #expect(stale.transitions.isEmpty)
        // Attempt 4 fails retryably: 1 of the fresh 3, so it is retried (not given up).
        let effects = await bench.store.recordResults(
            [bench.report(.started, "branch_b", attempt: 4), bench.report(.failed, "branch_b", attempt: 4, errorKind: .retryable)],
            machine: bench.machine, using: &bench.generator)
        #expect(bench.step("branch_b").state == .waitingForRetry)
        #expect(effects.events.first { $0.event == .stepFailed }?.maxAttempts == 6)
    }

    @Test func retryingOneStepOfARunningTaskKeepsTheTaskRunning() async {
        var bench = Bench(failures: ["branch_b": .permanent])
        await bench.work(1)
        await bench.workStep("branch_b")  // branch_b fails; branch_c is still enqueued
        #expect(bench.states["branch_b"] == .error)
        #expect(bench.task.state == .inProgress)
        let outcome = await bench.perform(.retryStep(.id(bench.step("branch_b").id)))
        #expect(outcome.status == .applied)
        #expect(bench.task.trail.count == 2, "the task never left in_progress")
        #expect(await bench.perform(.retryStep(.name("branch_b"))).status == .alreadyApplied, "a repeat while it runs")
        await bench.runToQuiescence()
        #expect(bench.task.state == .complete)
    }

    @Test func retryRefusalsNameTheReason() async {
        var bench = Bench(failures: ["branch_b": .permanent])
        await bench.runToQuiescence()
        let pending = await bench.perform(.retryStep(.name("end")))
        #expect(pending.status == .refused)
        #expect(pending.message.contains("pending"))
        #expect(await bench.perform(.retryStep(.name("start"))).status == .refused)
        let missing = await bench.perform(.retryStep(.name("nope")))
        #expect(missing.status == .notFound)
        #expect(missing.message.contains("'nope'"))
        let otherTask = await bench.store.perform(
            [OperatorCommand(taskID: UUID(), action: .retryTask, actor: "a", reason: "r")], machine: bench.machine)
        #expect(otherTask.actions.first?.status == .notFound)
        #expect(bench.store.operatorRecords.isEmpty, "nothing applied, nothing recorded")
    }

    // MARK: Resolve

    @Test func resolvingAFailedStepLetsItsChildrenRunWithTheGivenResults() async {
        var bench = Bench(failures: ["branch_b": .permanent])
        await bench.runToQuiescence()
        #expect(bench.task.state == .error)
        let outcome = await bench.perform(.resolveStep(.name("branch_b"), results: ["value": 3]), reason: "done by hand")
        #expect(outcome.status == .applied)
        #expect(bench.step("branch_b").state == .resolvedManually)
        #expect(bench.step("branch_b").results == ["value": 3])
        #expect(bench.step("end").state == .enqueued)
        #expect(bench.task.state == .inProgress)
        await bench.runToQuiescence()
        #expect(bench.task.state == .complete)
        // end squares the product of its parents' values: 3 (by hand) and branch_c's.
        let c = bench.step("branch_c").results?["value"]?.intValue ?? 0
        #expect(bench.step("end").results?["value"]?.intValue == (3 * c % Worker.prime) * (3 * c % Worker.prime) % Worker.prime)
        #expect(bench.task.trail.map(\.description) == [
            "→pending", "pending→in_progress", "in_progress→error", "error→pending", "pending→in_progress", "in_progress→complete",
        ])
        let again = await bench.perform(.resolveStep(.name("branch_b"), results: ["value": 9]))
        #expect(again.status == .alreadyApplied)
        #expect(bench.step("branch_b").results == ["value": 3], "a repeat changes nothing")
    }

    @Test func resolvingALeafCompletesTheTaskAndAnotherFailureKeepsItFailed() async {
        var bench = Bench(failures: ["end": .permanent])
        await bench.runToQuiescence()
        #expect(bench.task.state == .error)
        let effects = await bench.store.perform(
            [OperatorCommand(taskID: bench.taskID, action: .resolveStep(.name("end"), results: .null), actor: "a", reason: "r")],
            machine: bench.machine)
        #expect(bench.task.state == .complete)
        #expect(effects.events.map(\.event) == [.stepResolvedManually, .taskCompleted, .taskFinalized])

        var two = Bench(failures: ["branch_b": .permanent, "branch_c": .permanent])
        await two.runToQuiescence()
        #expect(two.task.state == .error)
        let trail = two.task.trail
        #expect(await two.perform(.resolveStep(.name("branch_b"), results: [:])).status == .applied)
        #expect(two.task.state == .error, "branch_c still blocks end: nothing to run, the task stays failed")
        #expect(two.task.trail == trail)
        #expect(await two.perform(.resolveStep(.name("branch_c"), results: [:])).status == .applied)
        #expect(two.task.state == .inProgress)
        await two.runToQuiescence()
        #expect(two.task.state == .complete)
    }

    @Test func aStepAWorkerHasIsNotResolved() async {
        var bench = Bench()
        await bench.work(1)
        let outcome = await bench.perform(.resolveStep(.name("branch_b"), results: [:]))
        #expect(outcome.status == .refused)
        #expect(outcome.message.contains("enqueued"))
        #expect(bench.step("branch_b").state == .enqueued)
    }

    @Test func resolvingAStepWaitingForRetryDispatchesItsChildren() async {
        var bench = Bench("linear", failures: ["step_2": .retryable])
        await bench.work(2)
        #expect(bench.step("step_2").state == .waitingForRetry)
        #expect(await bench.perform(.resolveStep(.name("step_2"), results: ["value": 5])).status == .applied)
        #expect(bench.step("step_3").state == .enqueued)
        await bench.runToQuiescence()
        #expect(bench.task.state == .complete)
        #expect(bench.step("step_2").attempts == 1)
    }

    @Test func resolvingAFailedTask() async {
        var bench = Bench(failures: ["branch_b": .permanent])
        await bench.runToQuiescence()
        let outcome = await bench.perform(.resolveTask, actor: "ops", reason: "handled offline")
        #expect(outcome.status == .applied)
        #expect(bench.task.state == .resolvedManually)
        #expect(bench.task.trail.last?.description == "error→resolved_manually")
        #expect(bench.step("branch_b").state == .error, "steps keep their states")
        #expect(await bench.perform(.resolveTask).status == .alreadyApplied)
        #expect(await bench.perform(.retryTask).status == .refused)

        var running = Bench()
        let refused = await running.perform(.resolveTask)
        #expect(refused.status == .refused)
        #expect(refused.message.contains("in_progress"))
    }

    // MARK: Input and batches

    @Test func malformedCommandsAreInvalid() async {
        var bench = Bench()
        #expect(await bench.perform(.cancelTask, actor: " ", reason: "r").status == .invalid)
        #expect(await bench.perform(.cancelTask, actor: "a", reason: "").message == "reason is required")
        let big = JSONValue.string(String(repeating: "x", count: (1 << 20) + 1))
        #expect(await bench.perform(.resolveStep(.name("end"), results: big)).status == .invalid)
        var deep: JSONValue = 1
        for _ in 0..<70 { deep = [deep] }
        #expect(await bench.perform(.resolveStep(.name("end"), results: deep)).status == .invalid)
        #expect(bench.task.state == .inProgress)
    }

    @Test func aBatchDecidesCommandsInOrder() async {
        var bench = Bench(failures: ["branch_b": .permanent])
        await bench.work(1)
        await bench.workStep("branch_b")
        let dispatched = bench.store.dispatches.count
        let effects = await bench.store.perform([
            OperatorCommand(taskID: bench.taskID, action: .retryStep(.name("branch_b")), actor: "a", reason: "r"),
            OperatorCommand(taskID: bench.taskID, action: .retryStep(.name("branch_b")), actor: "a", reason: "r"),
            OperatorCommand(taskID: bench.taskID, action: .cancelTask, actor: "b", reason: "r"),
        ], machine: bench.machine)
        #expect(effects.actions.map(\.status) == [.applied, .alreadyApplied, .applied])
        // The retry's dispatch was never sent: branch_b goes from pending straight to cancelled.
        #expect(bench.store.dispatches.count == dispatched)
        #expect(bench.step("branch_b").trail.suffix(2).map(\.description) == ["error→pending", "pending→cancelled"])
        #expect(bench.store.cancellations.map(\.stepName) == ["branch_c"])
        #expect(bench.task.progress == TaskProgress(total: 4, done: 1, failed: 0, active: 0))
    }
}
