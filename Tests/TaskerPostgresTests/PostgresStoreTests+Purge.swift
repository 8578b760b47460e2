import Foundation
import PostgresNIO
import TaskerCore
import TaskerPostgres
import TaskerTestSupport
import Testing

/// Deleting a task takes its steps, their edges and both audit trails with it (migrations 0020
/// and 0022: triggers, where foreign keys cascaded before), and only a purge may delete audit rows.
extension PostgresStoreTests {
    func count(_ table: String, of ids: [UUID], _ store: PostgresStore) async throws -> Int64 {
        let column = ["step_edges": "child_step_id", "step_transitions": "step_id", "steps": "task_id", "task_transitions": "task_id"][table]!
        let rows = try await store.database.query(
            PostgresQuery(unsafeSQL: "SELECT count(*)::int8 FROM \(table) WHERE \(column) = ANY($1)", binds: {
                var binds = PostgresBindings()
                binds.append(ids)
                return binds
            }()))
        return try #require(try rows.first?.decode(Int64.self))
    }

    @Test func deletingATaskDeletesItsStepsEdgesAndAuditRowsOnlyInAPurge() async throws {
        try await withIsolatedStore { tasks in
            let store = PostgresStore(database: tasks.database, topology: WireTopology(prefix: "t"), logger: testLogger)
            let (detail, _) = try await started(store)
            let (other, _) = try await started(store)
            _ = try await store.recordResult(result(.completed, detail.steps[0]), now: now)
            let steps = detail.steps.map(\.id), otherSteps = other.steps.map(\.id)
            #expect(try await count("step_transitions", of: steps, store) > 4)
            let otherTrail = try await count("step_transitions", of: otherSteps, store)
            #expect(otherTrail >= 4)
            #expect(try await count("step_edges", of: steps, store) == 4)
            #expect(try await count("task_transitions", of: [detail.task.id], store) >= 1)
            // Outside a purge the audit rows' guard refuses, and nothing goes.
            await #expect(throws: (any Error).self) {
                try await store.database.query("DELETE FROM tasks WHERE id = \(detail.task.id)")
            }
            #expect(try await count("step_edges", of: steps, store) == 4)
            try await store.database.withTransaction { connection in
                try await connection.query("SET LOCAL tasker.allow_purge = 'on'", logger: testLogger)
                try await connection.query("DELETE FROM tasks WHERE id = \(detail.task.id)", logger: testLogger)
            }
            #expect(try await count("step_transitions", of: steps, store) == 0)
            #expect(try await count("step_edges", of: steps, store) == 0)
            #expect(try await count("steps", of: [detail.task.id], store) == 0)
            #expect(try await count("task_transitions", of: [detail.task.id], store) == 0)
            // The other task keeps all of its rows.
            #expect(try await count("step_transitions", of: otherSteps, store) == otherTrail)
            #expect(try await count("step_edges", of: otherSteps, store) == 4)
            #expect(try await count("steps", of: [other.task.id], store) == 4)
            #expect(try await count("task_transitions", of: [other.task.id], store) >= 1)
        }
    }
}
