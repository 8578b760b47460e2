import Foundation
import Testing
import TaskerCore

/// The machine's single decisions (the interleaving suite checks them working together).
@Suite struct WorkflowMachineTests {
    let now = Date(timeIntervalSince1970: 10_000)
    var machine: WorkflowMachine { WorkflowMachine(now: now, makeEventID: { UUID() }) }

    func plan(_ template: String) throws -> TaskPlan {
        let url = Fixtures.examplesDirectory.appendingPathComponent("\(template).yaml")
        let loaded = try TemplateLoader().load(yaml: try String(contentsOf: url, encoding: .utf8), file: url.path)
        var ids = IDSource(seed: 3)
        return try TaskPlanner.plan(
            TaskRequest(namespace: loaded.namespace, name: loaded.name, context: ["even_number": 2, "cart_id": 1]),
            template: loaded, makeID: { ids.next() })
    }

    @Test func startingATaskAnnouncesItAndDispatchesOnlyItsRoots() throws {
        let tree = try plan("tree")
        let effects = machine.startTasks([(tree, .created)])
        #expect(effects.events.map(\.event) == [.taskCreated, .taskStarted])
        #expect(effects.dispatch == [tree.steps.first { $0.name == "root" }!.id])
        let api = try plan("api_integration")
        #expect(Set(machine.startTasks([(api, .created)]).dispatch)
            == Set(api.steps.filter { ["fetch_cart", "fetch_products"].contains($0.name) }.map(\.id)))
    }

    @Test func aDuplicateIsAnnouncedOnTheExistingTaskAndRunsNothing() throws {
        let existing = UUID()
        let effects = machine.startTasks([(try plan("diamond"), .duplicate(of: existing)), (try plan("linear"), .templateMissing)])
        #expect(effects.dispatch.isEmpty)
        #expect(effects.events.map(\.event) == [.taskRequestDeduplicated])
        #expect(effects.events.first?.taskID == existing)
    }

    @Test func theSweeperFailsSilentRunsAsTimeoutsAndResendsLostDispatches() {
        let running = WorkflowMachine.ExpiredAttempt(stepID: UUID(), taskID: UUID(), stepName: "a", state: .inProgress, attempts: 2)
        let lost = WorkflowMachine.ExpiredAttempt(stepID: UUID(), taskID: UUID(), stepName: "b", state: .enqueued, attempts: 0)
        let done = WorkflowMachine.ExpiredAttempt(stepID: UUID(), taskID: UUID(), stepName: "c", state: .complete, attempts: 1)
        let sweep = machine.sweep([running, lost, done], grace: 30)
        #expect(sweep.redispatch == [lost.stepID])
        #expect(sweep.timeouts.count == 1)
        #expect(sweep.timeouts.first?.stepID == running.stepID)
        #expect(sweep.timeouts.first?.attempt == 2)
        #expect(sweep.timeouts.first?.errorKind == .timeout)
    }

    @Test func onlyDueRetriesOfRunningTasksAreDispatched() {
        let due = UUID(), later = UUID(), cancelled = UUID()
        let picked = machine.retriesDue([
            (due, now, .inProgress), (later, now.addingTimeInterval(1), .inProgress), (cancelled, now, .cancelled),
        ])
        #expect(picked == [due])
    }

    @Test func progressCountsOneDefinitionOfActive() {
        var progress = TaskProgress(total: 2, done: 0, failed: 0, active: 0)
        progress.record(from: .pending, to: .enqueued)
        progress.record(from: .enqueued, to: .inProgress)
        progress.record(from: .inProgress, to: .waitingForRetry)
        #expect(progress.active == 1)
        #expect(progress.outcome == .running, "a step waiting for its retry keeps the task running")
        progress.record(from: .waitingForRetry, to: .enqueued)
        progress.record(from: .enqueued, to: .inProgress)
        progress.record(from: .inProgress, to: .error)
        #expect(progress == TaskProgress(total: 2, done: 0, failed: 1, active: 0))
        #expect(progress.outcome == .failed)
        #expect(TaskProgress.Delta.perTask([(UUID(), .waitingForRetry, .enqueued)]).isEmpty)
    }
}
