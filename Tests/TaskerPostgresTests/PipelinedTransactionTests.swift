import Foundation
import PostgresNIO
import Testing
import TaskerPostgres
import TaskerTestSupport

/// ``Database/transaction(_:)``: `BEGIN` pipelined with the first statement, the last
/// statement carrying the `COMMIT`, and the body on its connection's event loop.
@Suite struct PipelinedTransactionTests {
    /// A table of this test's own (tests run in parallel), dropped by ``dropTable(_:)``.
    private let table = "pipelined_rows_" + UUID().uuidString.prefix(8).lowercased()

    private func prepare(_ store: PostgresStore) async throws {
        _ = try await store.database.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (id uuid PRIMARY KEY)"))
    }

    private func dropTable(_ store: PostgresStore) async throws {
        _ = try await store.database.query(PostgresQuery(unsafeSQL: "DROP TABLE \(table)"))
    }

    private func stored(_ ids: [UUID], in store: PostgresStore) async throws -> Int {
        let rows = try await store.database.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int8 FROM \(table) WHERE id = ANY($1)", binds: {
            var binds = PostgresBindings()
            binds.append(ids)
            return binds
        }()))
        return Int(try rows[0].decode(Int64.self))
    }

    private func insert(_ id: UUID) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(id)
        return PostgresQuery(unsafeSQL: "INSERT INTO \(table) (id) VALUES ($1) RETURNING id", binds: binds)
    }

    @Test func theLastStatementCarriesTheCommit() async throws {
        try await withStore { store in
            try await prepare(store)
            let (first, last) = (UUID(), UUID())
            let returned = try await store.database.transaction { transaction in
                try await transaction.connection.query(insert(first), logger: testLogger)
                return try await transaction.queryAndCommit(insert(last)).map { try $0.decode(UUID.self) }
            }
            #expect(returned == [last])
            #expect(try await stored([first, last], in: store) == 2)
            try await dropTable(store)
        }
    }

    @Test func aFailingLastStatementRollsTheWholeTransactionBack() async throws {
        try await withStore { store in
            try await prepare(store)
            let (existing, first) = (UUID(), UUID())
            try await store.database.transaction { transaction in _ = try await transaction.queryAndCommit(insert(existing)) }
            let failure = await #expect(throws: TransactionError.self) {
                try await store.database.transaction { transaction in
                    try await transaction.connection.query(insert(first), logger: testLogger)
                    _ = try await transaction.queryAndCommit(insert(existing))  // duplicate key
                }
            }
            #expect((failure?.closureError as? PSQLError)?.serverInfo?[.sqlState] == "23505")
            #expect(failure?.rollbackError == nil)
            #expect(try await stored([first], in: store) == 0)
            // The connections are left usable, outside any transaction.
            for _ in 0..<8 {
                let id = UUID()
                try await store.database.transaction { transaction in _ = try await transaction.queryAndCommit(insert(id)) }
                #expect(try await stored([id], in: store) == 1)
            }
            try await dropTable(store)
        }
    }

    @Test func aBodyThatThrowsIsRolledBack() async throws {
        struct Refused: Error {}
        try await withStore { store in
            try await prepare(store)
            let id = UUID()
            let failure = await #expect(throws: TransactionError.self) {
                try await store.database.withTransaction { connection in
                    try await connection.query(insert(id), logger: testLogger)
                    throw Refused()
                }
            }
            #expect(failure?.closureError is Refused)
            #expect(try await stored([id], in: store) == 0)
            try await dropTable(store)
        }
    }

    @Test func theBodyRunsOnItsConnectionsEventLoop() async throws {
        try await withStore { store in
            let onLoop = try await store.database.transaction { transaction in
                let before = transaction.connection.eventLoop.inEventLoop
                try await transaction.connection.query("SELECT 1", logger: testLogger)
                return before && transaction.connection.eventLoop.inEventLoop
            }
            #expect(onLoop)
        }
    }
}
