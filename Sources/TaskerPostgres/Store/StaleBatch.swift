internal import PostgresNIO

/// The write call of an optimistic batch found a task changed since the batch read it
/// (`tasker_apply_batch` raised SQLSTATE `TK409`, migration 0017): nothing of the batch was
/// written, and it runs again with locks.
enum StaleBatch {
    static let sqlState = "TK409"

    static func matches(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == sqlState
    }
}
