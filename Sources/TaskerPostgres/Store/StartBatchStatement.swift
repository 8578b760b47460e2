internal import Foundation
internal import PostgresNIO

/// A batch of new tasks in one call of `tasker_start_batch` (migrations 0018, 0023): the tasks'
/// creation (``CreateTasksStatement``) and the decision made as if all of them were new
/// (``ApplyBatchStatement``). The call fails with ``RefusedBatch/sqlState``, writing nothing,
/// when one of them was not stored (a duplicate identity, a template no longer registered).
/// Returns the outbox row written.
struct StartBatchStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT tasker_start_batch(
            $1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
            $10::text[], $11::int8[], $12::int8[], $13::int8[], $14::int8[], $15::int8[], $16::bool, $17::text,
            $18::uuid[], $19::uuid[], $20::text[], $21::text[], $22::int8[], $23::bool[], $24::int8[], $25::float8[],
            $26::float8[], $27::float8[], $28::float8[], $29::text[], $30::int8[], $31::text[], $32::float8[], $33::text[],
            $34::uuid[], $35::uuid[], $36::uuid[],
            $37::uuid[], $38::text[], $39::int8[], $40::text[], $41::text[], $42::float8[], $43::float8[], $44::int8[],
            $45::bool[], $46::uuid[], $47::uuid[], $48::text[], $49::text[], $50::int8[], $51::bool[], $52::text[],
            $53::uuid[], $54::int8[], $55::int8[], $56::int8[], $57::uuid[], $58::int8[], $59::uuid[], $60::text[],
            $61::bool[], $62::text[], $63::text[], $64::text[], $65::text[], $66::text[], $67::uuid[], $68::text[],
            $69::int8[], $70::uuid[], $71::int8[])
        """
    typealias Row = Int64?

    var create: CreateTasksStatement
    var apply: ApplyBatchStatement

    /// The creation of `create`'s tasks followed by the write call `apply`, decided as if they
    /// were all new. The new steps' first moves (a root's dispatch) go to the creation, which
    /// inserts them as decided (migration 0023), rather than to the write call, which would
    /// update the rows just inserted.
    init(create: CreateTasksStatement, apply: ApplyBatchStatement) {
        var create = create, apply = apply
        create.takeFirstMoves(rows: &apply.rows, transitions: &apply.transitions, unfinishedParents: apply.unfinishedParents)
        self.create = create
        self.apply = apply
    }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 71)
        create.appendBindings(to: &bindings)
        apply.appendBindings(to: &bindings)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64?.self) }
}
