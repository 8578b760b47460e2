import Foundation
import PostgresNIO
import TaskerTestSupport
import Testing
import TaskerPostgres

@Suite(.timeLimit(.minutes(2))) struct MigrationTests {
    @Test func appliesFromEmptyAndReapplyingIsANoOp() async throws {
        try await withFreshDatabase { client, _ in
            let migrations = try Migration.load(from: TestPaths.migrations)
            #expect(migrations.first?.version == 1)
            let migrator = PostgresMigrator(client: client, logger: testLogger)
            #expect(try await migrator.appliedVersions() == [])
            let first = try await migrator.migrate(migrations)
            #expect(first == migrations.map(\.version))
            let second = try await migrator.migrate(migrations)
            #expect(second == [])
            #expect(try await migrator.appliedVersions() == migrations.map(\.version))
            var tables: [String] = []
            let rows = try await client.query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1", logger: testLogger)
            for try await name in rows.decode(String.self) { tables.append(name) }
            #expect(tables == [
                "operator_actions", "outbox_batches", "step_edges", "step_transitions", "steps", "task_templates", "task_transitions", "tasker_schema_migrations", "tasks",
            ])
        }
    }

    @Test func theOutboxUpgradeCarriesOverUnpublishedMessages() async throws {
        try await withFreshDatabase { client, _ in
            let migrations = try Migration.load(from: TestPaths.migrations)
            let migrator = PostgresMigrator(client: client, logger: testLogger)
            try await migrator.migrate(migrations.filter { $0.version < 6 })
            let messageID = UUID()
            try await client.query(
                """
                INSERT INTO outbox (exchange, routing_key, message_type, message_id, body)
                VALUES ('tasker.steps', 'default', 'workflow.viable_steps_discovered', \(messageID), '{"a":1}')
                """, logger: testLogger)
            try await migrator.migrate(migrations)
            let rows = try await client.query(
                "SELECT exchanges, routing_keys, message_types, message_ids, bodies FROM outbox_batches", logger: testLogger)
            var carried: [([String], [String], [String], [UUID], [String])] = []
            for try await row in rows.decode(([String], [String], [String], [UUID], [String]).self) { carried.append(row) }
            #expect(carried.count == 1)
            #expect(carried.first?.0 == ["tasker.steps"] && carried.first?.1 == ["default"])
            #expect(carried.first?.2 == ["workflow.viable_steps_discovered"] && carried.first?.3 == [messageID])
            #expect(carried.first?.4 == [#"{"a":1}"#])
        }
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        try await withFreshDatabase { client, _ in
            let migrations = try Migration.load(from: TestPaths.migrations)
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask { try await PostgresMigrator(client: client, logger: testLogger).migrate(migrations) }
                }
                var all: [Int] = []
                for try await versions in group { all += versions }
                return all
            }
            #expect(applied.sorted() == migrations.map(\.version))
        }
    }

    /// The hot path's functions plan once per session and never with sequential scans
    /// (migrations 0014, 0015, 0017, 0018, 0023; docs/performance.md says why), and the old write calls are gone.
    @Test func hotFunctionsRunWithCachedIndexPlans() async throws {
        try await withFreshDatabase { client, _ in
            try await PostgresMigrator(client: client, logger: testLogger).migrate(try Migration.load(from: TestPaths.migrations))
            let rows = try await client.query(
                """
                SELECT proname::text, pronargs::int, array_to_string(proconfig, ',') FROM pg_proc
                WHERE proname IN ('tasker_apply_batch', 'tasker_lock_batch', 'tasker_read_batch', 'tasker_create_tasks',
                                  'tasker_dispatch_document', 'tasker_start_batch')
                ORDER BY 1
                """, logger: testLogger)
            var functions: [(String, Int, String?)] = []
            for try await row in rows.decode((String, Int, String?).self) { functions.append(row) }
            #expect(functions.map(\.0) == [
                "tasker_apply_batch", "tasker_create_tasks", "tasker_dispatch_document", "tasker_lock_batch", "tasker_read_batch",
                "tasker_start_batch",
            ])
            #expect(functions.first?.1 == 35, "one write call, the one of migration 0017")
            for (name, _, settings) in functions {
                #expect(settings == "plan_cache_mode=force_generic_plan,enable_seqscan=off", "\(name): \(settings ?? "no settings")")
            }
        }
    }

    @Test func badFileNamesAreRejected() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mig-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "SELECT 1".write(to: directory.appendingPathComponent("init.sql"), atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.self) { try Migration.load(from: directory) }
    }
}
