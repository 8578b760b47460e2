import Foundation
import Testing
import TaskerCore
import TaskerTestSupport

/// Operator commands interleaved at random with chaotic report delivery: whatever the order,
/// the final states must be consistent (every task finished, counts equal to the steps'
/// states, audit trails that follow the state machines, results computed from the parents'
/// results, operator results included), nothing may change a task after it was cancelled,
/// and a command repeated at once must change nothing.
extension InterleavingTests {
    @Test func operatorActionsInterleavedWithReportsLeaveConsistentStates() async throws {
        var applied = 0
        for seed in UInt64(1)...1_500 {
            let run = await ActionScenario(seed: seed).run()
            applied += run.applied
            let problems = run.problems
            #expect(problems.isEmpty, "seed \(seed): \(problems.prefix(3).joined(separator: "; "))")
            if !problems.isEmpty { return }
        }
        #expect(applied > 500, "the scenarios apply actions")
    }
}

/// A ``Scenario`` run chaotically, with operator commands at random points.
struct ActionScenario {
    let scenario: Scenario

    init(seed: UInt64) { scenario = Scenario(seed: seed) }

    struct Run {
        var store: InMemoryWorkflowStore
        var applied = 0
        var problems: [String] = []
    }

    func run() async -> Run {
        var store = InMemoryWorkflowStore()
        var ids = IDSource(seed: scenario.seed)
        var taskIDs: [UUID] = []
        for task in scenario.tasks {
            let id = ids.next()
            taskIDs.append(id)
            store.startTask(task.template, id: id, context: ["even_number": .int(task.input)], makeID: { ids.next() })
        }
        let machine = WorkflowMachine(now: Date(timeIntervalSince1970: 1_000), makeEventID: { UUID() })
        var jitter = SplitMix64(seed: scenario.seed ^ 0xABCD)
        var random = SplitMix64(seed: scenario.seed &* 77)
        var worker = Worker(failures: scenario.failures)
        var inFlight: [StepResultMessage] = []
        var delivered: [StepResultMessage] = []
        var run = Run(store: store)
        var frozen: [UUID: [UUID: [InMemoryWorkflowStore.Move]]] = [:]

        while true {
            if Int.random(in: 0..<7, using: &random) == 0 {
                let command = randomCommand(taskIDs: taskIDs, store: store, using: &random)
                let outcome = await store.perform([command], machine: machine).actions[0]
                if outcome.status == .applied { run.applied += 1 }
                if outcome.status == .applied, command.action == .cancelTask {
                    frozen[command.taskID] = trails(of: command.taskID, in: store)
                }
                if Bool.random(using: &random) {
                    let before = store
                    let repeated = await store.perform([command], machine: machine).actions[0]
                    if repeated.status == .applied || store != before {
                        run.problems.append("repeating \(command.action.name) changed the task (\(repeated.message))")
                    }
                }
                continue
            }
            let produce = inFlight.isEmpty || Int.random(in: 0..<3, using: &random) == 0
            if produce, let reports = worker.work(&store) {
                for report in reports {
                    inFlight.append(report)
                    if Int.random(in: 0..<4, using: &random) == 0 { inFlight.append(report) }
                }
                continue
            }
            if inFlight.isEmpty { break }
            inFlight.shuffle(using: &random)
            let count = Int.random(in: 1...min(6, inFlight.count), using: &random)
            var batch = Array(inFlight.prefix(count))
            inFlight.removeFirst(count)
            if !delivered.isEmpty, Int.random(in: 0..<5, using: &random) == 0 { batch.append(delivered.randomElement(using: &random)!) }
            await store.recordResults(batch, machine: machine, using: &jitter)
            delivered += batch
        }
        run.store = store
        run.problems += Consistency(store: store).problems
        for (task, trails) in frozen where self.trails(of: task, in: store) != trails {
            run.problems.append("a step of cancelled task \(task) changed after the cancellation")
        }
        let applied = store.operatorRecords
        if applied.count != run.applied || Set(applied.map(\.id)).count != applied.count {
            run.problems.append("\(run.applied) commands applied but \(applied.count) audit records")
        }
        return run
    }

    private func trails(of task: UUID, in store: InMemoryWorkflowStore) -> [UUID: [InMemoryWorkflowStore.Move]] {
        Dictionary(uniqueKeysWithValues: (store.tasks[task]?.steps ?? []).map { ($0, store.steps[$0]!.trail) })
    }

    private func randomCommand(taskIDs: [UUID], store: InMemoryWorkflowStore, using random: inout SplitMix64) -> OperatorCommand {
        let task = taskIDs.randomElement(using: &random)!
        let names = (store.tasks[task]?.steps ?? []).compactMap { store.steps[$0]?.name }
        let step = OperatorCommand.StepReference.name(names.randomElement(using: &random)!)
        let action: OperatorCommand.Action
        switch Int.random(in: 0..<10, using: &random) {
        case 0: action = .cancelTask
        case 1, 2: action = .retryTask
        case 3, 4, 5: action = .retryStep(step)
        case 6, 7, 8: action = .resolveStep(step, results: ["value": .int(Int64.random(in: 1...1_000, using: &random))])
        default: action = .resolveTask
        }
        return OperatorCommand(taskID: task, action: action, actor: "chaos", reason: "random")
    }
}

/// What must hold for a quiescent in-memory store, whatever happened before.
struct Consistency {
    let store: InMemoryWorkflowStore

    var problems: [String] {
        var problems: [String] = []
        for task in store.tasks.values {
            let steps = task.steps.map { store.steps[$0]! }
            var counts = TaskProgress(total: steps.count, done: 0, failed: 0, active: 0)
            for step in steps { counts.record(from: .pending, to: step.state) }
            if counts != task.progress { problems.append("task counts \(task.progress) but steps say \(counts)") }
            if task.state == .pending || task.state == .inProgress { problems.append("task left \(task.state.rawValue) with nothing running") }
            if task.state == .complete, counts.done != counts.total { problems.append("complete task with unfinished steps") }
            if task.state == .error, counts.failed == 0 { problems.append("failed task without a failed step") }
            if task.state == .cancelled, steps.contains(where: { $0.state == .pending }) { problems.append("cancelled task with a pending step") }
            problems += trailProblems(task.trail.map { ($0.from, $0.to) }, machine: TaskState.machine, current: task.state.rawValue, "task")
            for step in steps {
                problems += trailProblems(step.trail.map { ($0.from, $0.to) }, machine: StepState.machine, current: step.state.rawValue, step.name)
                if step.state.countsAsActive { problems.append("\(step.name) left \(step.state.rawValue)") }
                let unfinished = step.parents.filter { !store.steps[$0]!.state.satisfiesDependents }.count
                if unfinished != step.unfinishedParents { problems.append("\(step.name) counts \(step.unfinishedParents) unfinished parents, not \(unfinished)") }
                if step.state == .complete, step.results != expectedResults(of: step, context: task.context) {
                    problems.append("\(step.name) has results \(String(describing: step.results)) not computed from its parents'")
                }
            }
        }
        let dispatched = store.dispatches.map { "\($0.stepID) \($0.attempt)" }
        if Set(dispatched).count != dispatched.count { problems.append("an attempt was dispatched twice") }
        for cancellation in store.cancellations where store.steps[cancellation.stepID]?.state != .cancelled {
            problems.append("cancellation sent for \(cancellation.stepName), which is not cancelled")
        }
        return problems
    }

    private func expectedResults(of step: InMemoryWorkflowStore.Step, context: JSONValue) -> JSONValue {
        let input: Int64 = step.parents.isEmpty
            ? (context["even_number"]?.intValue ?? 0) % Worker.prime
            : step.parents.reduce(Int64(1)) { ($0 * (store.steps[$1]!.results?["value"]?.intValue ?? 0)) % Worker.prime }
        return ["value": .int((input * input) % Worker.prime)]
    }

    private func trailProblems<S>(
        _ trail: [(String, String)], machine: StateMachine<S>, current: String, _ name: String
    ) -> [String] where S.RawValue == String {
        guard trail.first?.0 == "", trail.first?.1 == "pending" else { return ["\(name) trail does not start at pending"] }
        var problems: [String] = []
        for (previous, move) in zip(trail, trail.dropFirst()) {
            guard move.0 == previous.1 else { return ["\(name) trail jumps from \(previous.1) to \(move.0)"] }
            guard let from = S(rawValue: move.0), let to = S(rawValue: move.1), machine.canTransition(from: from, to: to) else {
                problems.append("\(name) trail has a forbidden move \(move.0)→\(move.1)")
                continue
            }
        }
        if trail.last?.1 != current { problems.append("\(name) is \(current) but its trail ends at \(trail.last?.1 ?? "")") }
        return problems
    }
}
