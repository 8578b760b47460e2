import Foundation
import PostgresNIO
import TaskerCore
@testable import TaskerPostgres
import TaskerTestSupport
import Testing

/// Optimistic finalizer batches (migration 0017): a batch that read its rows before another
/// writer changed its task writes nothing and runs again with locks, and every writer gives the
/// tasks it changes a new `lock_version`, which is what makes the check sound.
extension PostgresStoreTests {
    func lockVersion(_ task: UUID, _ store: PostgresStore) async throws -> Int64 {
        let rows = try await store.database.query("SELECT lock_version FROM tasks WHERE id = \(task)")
        return try #require(try rows.first?.decode(Int64.self))
    }

    func completions(of step: UUID, _ store: PostgresStore) async throws -> Int {
        let rows = try await store.database.query(
            "SELECT count(*)::int8 FROM step_transitions WHERE step_id = \(step) AND to_state = 'complete'")
        return Int(try #require(try rows.first?.decode(Int64.self)))
    }

    @Test func aBatchThatReadBeforeAnotherWroteItsTaskWritesNothingAndRunsAgainWithLocks() async throws {
        try await withIsolatedStore { tasks in
            let store = PostgresStore(database: tasks.database, topology: WireTopology(prefix: "t"), logger: testLogger)
            let (detail, _) = try await started(store)
            _ = try await store.recordResult(result(.completed, detail.steps[0]), now: now)
            let b = detail.steps[1], c = detail.steps[2]
            let reportB = result(.completed, b, value: 16)
            // B's batch reads: the join `end` still waits for both of its parents.
            let stale = try await store.database.onConnectionLoop { connection in
                var batch = PostgresBatch(store: store, connection: connection, mode: .optimistic, now: now, deleting: [])
                let snapshot = try await batch.loadSnapshot(for: [reportB])
                #expect(snapshot.childRows.values.map(\.unfinishedParents) == [2])
                // C completes in the meantime, through another connection.
                _ = try await store.recordResult(result(.completed, c, value: 16), now: now)
                var generator = SystemRandomNumberGenerator()
                let effects = store.machine(at: now).recordResults([reportB], snapshot: snapshot, using: &generator)
                #expect(effects.dispatch.isEmpty, "decided on the old rows: one parent still unfinished")
                do {
                    try await batch.apply(effects)
                    return false
                } catch {
                    return RefusedBatch.matches(error)
                }
            }
            #expect(stale, "the write call refused the stale batch")
            #expect(try await completions(of: b.id, store) == 0, "nothing of the stale batch was written")
            // Run through the store, the batch is recorded with locks and dispatches the join once.
            let recorded = try await store.recordResults([reportB], now: now)
            #expect(recorded.outcomes == [.applied])
            let dispatches = recorded.outbox.filter { $0.message.type == "workflow.viable_steps_discovered" }
            #expect(dispatches.count == 1)
            let join = try WireCoding.decode(StepDispatch.self, from: try #require(dispatches.first).message.body)
            #expect(join.stepName == "end" && join.parentResults == ["branch_b": ["value": 16], "branch_c": ["value": 16]])
            #expect(try await completions(of: b.id, store) == 1)
            #expect(try await store.fetchTask(detail.task.id).step(named: "end")?.state == .enqueued)
        }
    }

    @Test func everyWriteToATaskGivesItANewLockVersion() async throws {
        try await withIsolatedStore { tasks in
            let store = PostgresStore(database: tasks.database, topology: WireTopology(prefix: "t"), logger: testLogger)
            let (detail, _) = try await started(store)
            let id = detail.task.id
            var version = try await lockVersion(id, store)
            // A result (the finalizer).
            let root = detail.steps[0]
            _ = try await store.recordResult(result(.failed, root, errorKind: .retryable), now: now)
            #expect(try await lockVersion(id, store) > version)
            version = try await lockVersion(id, store)
            // A due retry (the reenqueuer): waiting_for_retry → enqueued changes no count.
            let retryAt = try #require(try await store.fetchTask(id).steps[0].nextRetryAt)
            #expect(try await store.reenqueueDue(now: retryAt).isEmpty == false)
            #expect(try await lockVersion(id, store) > version)
            version = try await lockVersion(id, store)
            // An operator's command.
            _ = try await store.perform([OperatorCommand(taskID: id, action: .cancelTask, actor: "tests", reason: "test")], now: now)
            #expect(try await lockVersion(id, store) > version)
        }
    }
}
