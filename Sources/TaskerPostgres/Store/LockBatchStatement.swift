internal import Foundation
internal import PostgresNIO
internal import TaskerCore

/// What a batch of reports reads, as the finalizer's statements take it: the tasks, the reported
/// steps, and the steps reported completed (whose children are read).
struct BatchRowKeys {
    var tasks: [UUID]
    var steps: [UUID]
    var completedSteps: [UUID]

    init(_ reports: [StepResultMessage]) {
        tasks = Array(Set(reports.map(\.taskID)))
        steps = Array(Set(reports.map(\.stepID)))
        completedSteps = Array(Set(reports.filter { $0.kind == .completed }.map(\.stepID)))
    }

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(tasks)
        bindings.append(steps)
        bindings.append(completedSteps)
        return bindings
    }
}

/// Locks and loads what a batch of reports needs, in one call of `tasker_lock_batch`
/// (migration 0014, where the order of the locks and the rows it returns are described): the
/// tasks, the reported steps, and the children of the steps reported completed, with the
/// dispatch document of each child the batch will probably make ready (column 15, read under
/// the same locks, so the common dispatch costs no statement of its own).
///
/// The function runs its query with a plan cached for the session: planned for each call's
/// arrays, it took longer to plan than to run.
struct LockBatchStatement: PostgresPreparedStatement {
    static let sql = "SELECT * FROM tasker_lock_batch($1::uuid[], $2::uuid[], $3::uuid[])"
    typealias Row = (Int, UUID, UUID?, String, String, Int, Int, Int, Int, Bool, Double, Double, Double, Double, String?)

    var keys: BatchRowKeys

    func makeBindings() throws -> PostgresBindings { keys.makeBindings() }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
