internal import PostgresNIO

/// Recognises the errors PostgreSQL raises when concurrent transactions collide (a deadlock
/// or a serialization failure): the transaction was rolled back and may simply be run again.
enum TransientConflict {
    static func matches(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40P01" || state == "40001"
    }
}
