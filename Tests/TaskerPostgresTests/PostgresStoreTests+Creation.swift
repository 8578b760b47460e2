import Foundation
import PostgresNIO
import TaskerCore
import TaskerPostgres
import TaskerTestSupport
import Testing

/// A batch of new tasks is stored in the state the machine decided, by the statement that
/// creates it (migration 0023): the rows are those the two-call path (creation, then the write
/// call) writes for a batch with a duplicate.
extension PostgresStoreTests {
    /// Everything stored for a task, relative to `now`, as comparable text.
    func storedRows(of task: UUID, _ store: PostgresStore) async throws -> (task: [String], steps: [String], audit: [String]) {
        func lines(_ sql: String, relativeTo now: Date? = nil) async throws -> [String] {
            var binds = PostgresBindings()
            binds.append(task)
            if let now { binds.append(now.timeIntervalSince1970) }
            let rows = try await store.database.query(PostgresQuery(unsafeSQL: sql, binds: binds))
            return try rows.map { try $0.decode(String.self) }
        }
        let taskRow = try await lines("""
            SELECT r.line FROM (
                SELECT 0 AS k, concat_ws(' ', state, steps_total, steps_done, steps_error, steps_active) AS line
                FROM tasks WHERE id = $1
                UNION ALL
                SELECT sort_key, concat_ws(' ', sort_key, from_state, to_state, most_recent, metadata)
                FROM task_transitions WHERE task_id = $1) r
            ORDER BY r.k
            """)
        let steps = try await lines("""
            SELECT concat_ws(' ', name, state, attempts, unfinished_parents,
                             round((extract(epoch FROM deadline) - $2::float8)::numeric, 2), next_retry_at, results, last_error)
            FROM steps WHERE task_id = $1 ORDER BY position
            """, relativeTo: now)
        let audit = try await lines("""
            SELECT concat_ws(' ', s.name, x.sort_key, x.from_state, x.to_state, x.most_recent, x.metadata)
            FROM step_transitions x JOIN steps s ON s.id = x.step_id WHERE x.task_id = $1
            ORDER BY s.position, x.sort_key
            """)
        return (taskRow, steps, audit)
    }

    func lockVersion(of task: UUID, _ store: PostgresStore) async throws -> Int64 {
        let rows = try await store.database.query("SELECT lock_version FROM tasks WHERE id = \(task)")
        return try #require(try rows.first?.decode(Int64.self))
    }

    @Test func newTasksAreStoredAsDecidedWithTheRowsOfTheTwoCallPath() async throws {
        try await withIsolatedStore { tasks in
            let store = PostgresStore(database: tasks.database, topology: WireTopology(prefix: "t"), logger: testLogger)
            let template = try twoRootsTemplate(join: true)
            try await store.registerTemplate(template)
            let oneCall = try plan(template, context: ["even_number": 2])
            let twoCalls = try plan(template, context: ["even_number": 4])
            let duplicate = try plan(template, context: ["even_number": 4])

            let new = try await store.startTasks([oneCall], now: now)
            let mixed = try await store.startTasks([twoCalls, duplicate], now: now)
            #expect(new.creations.map { $0?.duplicate } == [false])
            #expect(mixed.creations.map { $0?.duplicate } == [false, true])

            let stored = try await storedRows(of: oneCall.taskID, store)
            let expected = try await storedRows(of: twoCalls.taskID, store)
            #expect(stored.task == expected.task)
            #expect(stored.steps == expected.steps)
            #expect(stored.audit == expected.audit)
            #expect(stored.task.first == "in_progress 3 0 0 2")
            #expect(stored.steps.map { $0.split(separator: " ").prefix(2).joined(separator: " ") } == [
                "quick enqueued", "slow enqueued", "join pending",
            ])
            #expect(stored.audit.count == 5)  // → pending for each step, pending → enqueued for each root
            // The write call of the one-call path did not touch the new task: its roots were
            // inserted enqueued (the two-call path's write call moved them, with a new version).
            #expect(try await lockVersion(of: oneCall.taskID, store) == 0)
            #expect(try await lockVersion(of: twoCalls.taskID, store) == 1)
        }
    }
}
