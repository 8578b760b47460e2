import Foundation
import PostgresNIO
import TaskerTestSupport
import Testing
import TaskerCore
import TaskerPostgres

@Suite(.timeLimit(.minutes(2))) struct TransitionTests {
    /// Registers a unique diamond template and creates one task from it.
    func makeTask(_ store: PostgresTaskStore) async throws -> TaskDetail {
        let template = try uniqueTemplate()
        try await store.registerTemplate(template)
        let created = try await store.createTask(try plan(template, context: ["even_number": 2, "n": .string(UUID().uuidString)]))
        return try await store.fetchTask(created.taskID)
    }

    @Test func twentyConcurrentTransitionsExactlyOneWins() async throws {
        try await withStore { store in
            let task = try await makeTask(store)
            let step = task.steps[0]
            let outcomes = try await withThrowingTaskGroup(of: TransitionOutcome.self) { group in
                for i in 0..<20 {
                    group.addTask { try await store.transitionStep(step.id, to: .enqueued, metadata: ["caller": .int(Int64(i))]) }
                }
                return try await group.reduce(into: [TransitionOutcome]()) { $0.append($1) }
            }
            let applied = outcomes.filter { if case .applied = $0 { return true } else { return false } }
            #expect(applied == [.applied(from: "pending", sortKey: 2)])
            #expect(outcomes.filter { $0 == .unchanged }.count == 19)

            let trail = try #require(try await store.fetchTask(task.task.id).stepTransitions[step.id])
            #expect(trail.map(\.toState) == ["pending", "enqueued"])
            #expect(trail.map(\.sortKey) == [1, 2])
            #expect(trail.map(\.mostRecent) == [false, true])
        }
    }

    @Test func concurrentChainOfDifferentTransitionsKeepsTheTrailConsistent() async throws {
        try await withStore { store in
            let task = try await makeTask(store)
            let step = task.steps[0]
            // Racers each try the whole happy path; every transition is recorded exactly once.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        for target in [StepState.enqueued, .inProgress, .complete] {
                            do { try await store.transitionStep(step.id, to: target) } catch let error as StoreError where error.code == .transitionRefused {}
                        }
                    }
                }
                try await group.waitForAll()
            }
            let detail = try await store.fetchTask(task.task.id)
            let trail = try #require(detail.stepTransitions[step.id])
            #expect(trail.map(\.toState) == ["pending", "enqueued", "in_progress", "complete"])
            #expect(trail.map(\.fromState) == [nil, "pending", "enqueued", "in_progress"])
            #expect(trail.map(\.sortKey) == [1, 2, 3, 4])
            #expect(trail.filter(\.mostRecent).count == 1 && trail.last!.mostRecent)
            #expect(detail.steps[0].state == .complete)
        }
    }

    @Test func refusedTransitionLeavesNoRowBehind() async throws {
        try await withStore { store in
            let task = try await makeTask(store)
            let step = task.steps[0]
            do {
                try await store.transitionStep(step.id, to: .complete, changes: StepChanges(results: ["x": 1]))
                Issue.record("expected a refusal")
            } catch let error as StoreError {
                #expect(error.code == .transitionRefused)
                #expect(error.description == "step cannot transition from 'pending' to 'complete'")
            }
            await #expect(throws: StoreError.self) { try await store.transitionTask(task.task.id, to: .complete) }
            let detail = try await store.fetchTask(task.task.id)
            #expect(detail.stepTransitions[step.id]?.count == 1)
            #expect(detail.taskTransitions.count == 1)
            #expect(detail.steps[0].state == .pending && detail.steps[0].results == nil)
        }
    }

    @Test func stepChangesAreWrittenWithTheTransition() async throws {
        try await withStore { store in
            let task = try await makeTask(store)
            let id = task.steps[0].id
            #expect(try await store.transitionTask(task.task.id, to: .inProgress) == .applied(from: "pending", sortKey: 2))
            try await store.transitionStep(id, to: .enqueued)
            try await store.transitionStep(id, to: .inProgress, changes: StepChanges(attemptsDelta: 1, inputs: ["value": 2]))
            let retryAt = Date(timeIntervalSince1970: 2_000_000_000)
            try await store.transitionStep(
                id, to: .waitingForRetry,
                changes: StepChanges(lastError: ["message": "boom", "kind": "retryable"], nextRetryAt: retryAt),
                metadata: ["error_kind": "retryable"])
            var step = try await store.fetchTask(task.task.id).steps[0]
            #expect(step.state == .waitingForRetry && step.attempts == 1)
            #expect(step.nextRetryAt == retryAt)
            #expect(step.lastError == ["message": "boom", "kind": "retryable"])
            #expect(step.inputs == ["value": 2])

            try await store.transitionStep(id, to: .enqueued)
            try await store.transitionStep(id, to: .inProgress, changes: StepChanges(attemptsDelta: 1))
            try await store.transitionStep(id, to: .complete, changes: StepChanges(results: ["value": 4]))
            let detail = try await store.fetchTask(task.task.id)
            step = detail.steps[0]
            #expect(step.state == .complete && step.attempts == 2 && step.nextRetryAt == nil && step.results == ["value": 4])
            #expect(detail.stepTransitions[id]?.map(\.toState)
                == ["pending", "enqueued", "in_progress", "waiting_for_retry", "enqueued", "in_progress", "complete"])
            #expect(detail.stepTransitions[id]?[3].metadata == ["error_kind": "retryable"])

            #expect(try await store.transitionTask(task.task.id, to: .inProgress) == .unchanged)
            try await store.transitionTask(task.task.id, to: .complete)
            let finished = try await store.fetchTask(task.task.id).task
            #expect(finished.state == .complete && finished.completedAt != nil)
        }
    }

    @Test func operatorResetClearsAttempts() async throws {
        try await withStore { store in
            let task = try await makeTask(store)
            let id = task.steps[0].id
            try await store.transitionStep(id, to: .enqueued)
            try await store.transitionStep(id, to: .inProgress, changes: StepChanges(attemptsDelta: 1))
            try await store.transitionStep(id, to: .error, changes: StepChanges(lastError: ["message": "fatal"]))
            try await store.transitionStep(id, to: .pending, changes: StepChanges(resetAttempts: true), metadata: ["reason": "operator reset"])
            let step = try await store.fetchTask(task.task.id).steps[0]
            #expect(step.state == .pending && step.attempts == 0)
        }
    }

    @Test func auditRowsAreAppendOnly() async throws {
        try await withStore { store in
            let task = try await makeTask(store)
            await #expect(throws: (any Error).self) {
                try await store.client.query("UPDATE step_transitions SET to_state = 'complete' WHERE task_id = \(task.task.id)", logger: testLogger)
            }
            await #expect(throws: (any Error).self) {
                try await store.client.query("DELETE FROM task_transitions WHERE task_id = \(task.task.id)", logger: testLogger)
            }
            let detail = try await store.fetchTask(task.task.id)
            #expect(detail.taskTransitions.count == 1)
            #expect(detail.stepTransitions.values.allSatisfy { $0.map(\.toState) == ["pending"] })
        }
    }
}
