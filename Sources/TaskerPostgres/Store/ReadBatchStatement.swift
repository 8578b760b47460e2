internal import Foundation
internal import PostgresNIO

/// The optimistic read of a batch of reports, in one call of `tasker_read_batch` (migration
/// 0017): the rows of ``LockBatchStatement``, without locks, and each task's `lock_version`
/// (column 16), which the batch's write call checks under the tasks' locks.
struct ReadBatchStatement: PostgresPreparedStatement {
    static let sql = "SELECT * FROM tasker_read_batch($1::uuid[], $2::uuid[], $3::uuid[])"
    typealias Row = (Int, UUID, UUID?, String, String, Int, Int, Int, Int, Bool, Double, Double, Double, Double, String?, Int64)

    var keys: BatchRowKeys

    func makeBindings() throws -> PostgresBindings { keys.makeBindings() }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
