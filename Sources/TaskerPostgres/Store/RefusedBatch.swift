internal import PostgresNIO

/// A write call that refused its batch and wrote nothing: SQLSTATE `TK409`, raised by
/// `tasker_apply_batch` when a task of an optimistic batch changed after the batch read it
/// (migration 0017), and by `tasker_start_batch` when a task of a batch decided as new was not
/// stored (a duplicate identity, a template no longer registered; migration 0018). Either way
/// the batch runs again the locked way, which decides with what is stored.
enum RefusedBatch {
    static let sqlState = "TK409"

    static func matches(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == sqlState
    }
}
