internal import Foundation
internal import PostgresNIO

/// A batch of new tasks in one call of `tasker_start_batch` (migration 0018): the tasks'
/// creation (``CreateTasksStatement``) and the decision made as if all of them were new
/// (``ApplyBatchStatement``). The call fails with ``RefusedBatch/sqlState``, writing nothing,
/// when one of them was not stored (a duplicate identity, a template no longer registered).
/// Returns the outbox row written.
struct StartBatchStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT tasker_start_batch(
            $1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
            $10::text[], $11::int8[], $12::int8[], $13::bool, $14::text, $15::uuid[], $16::uuid[], $17::text[],
            $18::text[], $19::int8[], $20::bool[], $21::int8[], $22::float8[], $23::float8[], $24::float8[],
            $25::float8[], $26::text[], $27::int8[], $28::uuid[], $29::uuid[], $30::uuid[], $31::uuid[], $32::text[],
            $33::int8[], $34::text[], $35::text[], $36::float8[], $37::float8[], $38::int8[], $39::bool[], $40::uuid[],
            $41::uuid[], $42::text[], $43::text[], $44::int8[], $45::bool[], $46::text[], $47::uuid[], $48::int8[],
            $49::int8[], $50::int8[], $51::uuid[], $52::int8[], $53::uuid[], $54::text[], $55::bool[], $56::text[],
            $57::text[], $58::text[], $59::text[], $60::text[], $61::uuid[], $62::text[], $63::int8[], $64::uuid[],
            $65::int8[])
        """
    typealias Row = Int64?

    var create: CreateTasksStatement
    var apply: ApplyBatchStatement

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 65)
        create.appendBindings(to: &bindings)
        apply.appendBindings(to: &bindings)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64?.self) }
}
