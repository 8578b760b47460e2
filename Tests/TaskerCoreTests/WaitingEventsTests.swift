import Foundation
import Testing
import TaskerCore

/// The workflow events of semantics.md that say why a running task waits:
/// `workflow.no_viable_steps`, `workflow.task_reenqueue_delayed` and
/// `workflow.task_reenqueue_requested`.
@Suite struct WaitingEventsTests {
    let now = Date(timeIntervalSince1970: 1_000)
    static let diamond = """
        name: diamond
        version: 1.0.0
        steps:
          - { name: start, handler: square }
          - { name: branch_b, handler: square, depends_on: [start], retry: { max_attempts: 3, base_seconds: 2, max_seconds: 10, jitter: 0 } }
          - { name: branch_c, handler: square, depends_on: [start] }
          - { name: end, handler: square, depends_on: [branch_b, branch_c] }
        """

    func report(_ kind: StepResultMessage.Kind, _ name: String, in store: InMemoryWorkflowStore, task: UUID) throws -> StepResultMessage {
        let step = try #require(store.steps.values.first { $0.taskID == task && $0.name == name })
        return StepResultMessage(
            kind: kind, taskID: task, stepID: step.id, stepName: name, attempt: step.attempts + 1, workerID: "w:1", occurredAt: now,
            results: kind == .completed ? ["value": 4] : nil, errorMessage: kind == .failed ? "boom" : nil,
            errorKind: kind == .failed ? .retryable : nil)
    }

    func workflowEvents(_ effects: WorkflowEffects) -> [LifecycleEvent] {
        effects.events.filter { $0.event.rawValue.hasPrefix("workflow.") }
    }

    @Test func aRunningTaskSaysWhyItWaitsAndAFinishedOneDoesNot() async throws {
        var store = InMemoryWorkflowStore()
        let task = UUID()
        store.startTask(try Fixtures.template(Self.diamond), id: task, context: ["even_number": 2], makeID: { UUID() })
        let machine = WorkflowMachine(now: now)
        var random = SystemRandomNumberGenerator()

        // `start` completes and makes both branches viable: nothing to announce.
        var effects = await store.recordResults([try report(.completed, "start", in: store, task: task)], machine: machine, using: &random)
        #expect(effects.dispatch.count == 2)
        #expect(workflowEvents(effects).isEmpty)

        // `branch_c` completes, but `end` still waits for `branch_b`.
        effects = await store.recordResults([try report(.completed, "branch_c", in: store, task: task)], machine: machine, using: &random)
        #expect(effects.dispatch.isEmpty)
        #expect(workflowEvents(effects).map(\.event) == [.noViableSteps])
        #expect(workflowEvents(effects).first?.details?["steps_active"] == .int(1))
        #expect(workflowEvents(effects).first?.taskID == task)

        // `branch_b` fails and waits 2 s for its retry: the task is re-enqueued with a delay.
        effects = await store.recordResults([try report(.failed, "branch_b", in: store, task: task)], machine: machine, using: &random)
        let delayed = workflowEvents(effects)
        #expect(delayed.map(\.event) == [.taskReenqueueDelayed])
        #expect(delayed.first?.details?["next_retry_at"] == .double(1_002))
        #expect(delayed.first?.details?["delay_seconds"] == .double(2))
        #expect(delayed.first?.details?["steps_waiting"] == .int(1))
        #expect(effects.events.allSatisfy { $0.missingKeys.isEmpty })

        // The reenqueuer's tick announces the task it re-enqueues, once per task.
        let other = UUID()
        let requested = machine.reenqueueRequested([(UUID(), task), (UUID(), other), (UUID(), task)])
        #expect(requested.map(\.event) == [.taskReenqueueRequested, .taskReenqueueRequested])
        #expect(Dictionary(uniqueKeysWithValues: requested.map { ($0.taskID, $0.details?["steps"]) }) == [task: .int(2), other: .int(1)])

        // The retry and `end` complete: the task is finalized, and no waiting event comes with it.
        store.reenqueueWaiting()
        effects = await store.recordResults([try report(.completed, "branch_b", in: store, task: task)], machine: machine, using: &random)
        #expect(effects.dispatch.count == 1)
        #expect(workflowEvents(effects).isEmpty)
        effects = await store.recordResults([try report(.completed, "end", in: store, task: task)], machine: machine, using: &random)
        #expect(workflowEvents(effects).map(\.event) == [.taskFinalized])
    }
}
