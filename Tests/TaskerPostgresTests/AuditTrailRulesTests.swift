import Foundation
import PostgresNIO
import TaskerCore
import TaskerPostgres
import TaskerTestSupport
import Testing

/// The audit trail's rules as the schema enforces them (migration 0013): rows are append-only,
/// only `most_recent` may be cleared, and the writer keeps exactly one newest row per step and
/// per task, with no index on the flag.
@Suite(.timeLimit(.minutes(2))) struct AuditTrailRulesTests {
    let now = Date()

    /// A diamond run to the end: every step and the task have a multi-row trail.
    func finishedDiamond(_ store: PostgresStore) async throws -> TaskDetail {
        let template = try uniqueTemplate()
        try await store.registerTemplate(template)
        let start = try await store.startTask(try plan(template, context: ["even_number": 2, "n": .string(UUID().uuidString)]), now: now)
        var detail = try await store.fetchTask(start.creation.taskID)
        for index in [0, 1, 2, 3] {
            let step = detail.steps[index]
            let reports: [StepResultMessage] = [.started, .completed].map { kind in
                StepResultMessage(
                    kind: kind, taskID: step.taskID, stepID: step.id, stepName: step.name, attempt: 1, workerID: "test",
                    occurredAt: now, results: kind == .completed ? ["value": 4] : nil, durationMs: 1)
            }
            // The start and the completion in separate batches, so each clears the newest row of the one before.
            for report in reports { _ = try await store.recordResults([report], now: now) }
            detail = try await store.fetchTask(start.creation.taskID)
        }
        #expect(detail.task.state == .complete)
        return detail
    }

    func expectRefused(_ store: PostgresStore, _ sql: String) async {
        await #expect(throws: PSQLError.self, "\(sql)") {
            try await store.client.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
        }
    }

    @Test func everyStepAndTaskHasExactlyOneNewestRowTheLastOne() async throws {
        try await withStore { store in
            let detail = try await finishedDiamond(store)
            for step in detail.steps {
                let trail = try #require(detail.stepTransitions[step.id])
                #expect(trail.map(\.toState) == ["pending", "enqueued", "in_progress", "complete"])
                #expect(trail.map(\.mostRecent) == [false, false, false, true])
                #expect(trail.map(\.sortKey) == [1, 2, 3, 4])
                // Current state = the newest row (semantics.md): the state column agrees with it.
                #expect(trail.last?.toState == step.state.rawValue)
            }
            #expect(detail.taskTransitions.map(\.toState) == ["pending", "in_progress", "complete"])
            #expect(detail.taskTransitions.map(\.mostRecent) == [false, false, true])
            #expect(detail.taskTransitions.last?.toState == detail.task.state.rawValue)
        }
    }

    @Test func transitionRowsCanOnlyHaveTheirNewestFlagCleared() async throws {
        try await withStore { store in
            let detail = try await finishedDiamond(store)
            let step = detail.steps[0].id
            let task = detail.task.id
            // Any other change, setting the flag again, or deleting is refused.
            await expectRefused(store, "UPDATE step_transitions SET to_state = 'error' WHERE step_id = '\(step)' AND sort_key = 4")
            await expectRefused(store, "UPDATE step_transitions SET metadata = '{\"x\":1}' WHERE step_id = '\(step)' AND sort_key = 2")
            await expectRefused(store, "UPDATE step_transitions SET most_recent = true WHERE step_id = '\(step)' AND sort_key = 2")
            await expectRefused(store, "UPDATE step_transitions SET most_recent = false WHERE step_id = '\(step)' AND sort_key = 2")
            await expectRefused(store, "DELETE FROM step_transitions WHERE step_id = '\(step)'")
            await expectRefused(store, "UPDATE task_transitions SET to_state = 'error' WHERE task_id = '\(task)' AND sort_key = 3")
            await expectRefused(store, "UPDATE task_transitions SET most_recent = true WHERE task_id = '\(task)' AND sort_key = 1")
            await expectRefused(store, "DELETE FROM task_transitions WHERE task_id = '\(task)'")
            // Clearing the newest flag is the one allowed update.
            try await store.client.query(
                "UPDATE step_transitions SET most_recent = false WHERE step_id = \(step) AND sort_key = 4", logger: testLogger)
            try await store.client.query(
                "UPDATE task_transitions SET most_recent = false WHERE task_id = \(task) AND sort_key = 3", logger: testLogger)
            let after = try await store.fetchTask(task)
            #expect(after.stepTransitions[step]?.map(\.mostRecent) == [false, false, false, false])
            #expect(after.stepTransitions[step]?.map(\.toState) == ["pending", "enqueued", "in_progress", "complete"])
        }
    }
}
