internal import Logging
public import PostgresNIO
internal import Synchronization

/// Why a transaction of ``Database/withTransaction(_:)`` failed, and at which point.
///
/// At most one of ``beginError``, ``closureError`` and ``commitError`` is the cause; a
/// ``rollbackError`` says the rollback after a ``closureError`` failed too.
public struct TransactionError: Error, CustomStringConvertible {
    /// `BEGIN` failed: nothing ran in the transaction.
    public var beginError: (any Error)?
    /// The transaction's body threw; the transaction was rolled back.
    public var closureError: (any Error)?
    /// `COMMIT` failed: the outcome of the transaction is unknown to this process.
    public var commitError: (any Error)?
    /// Rolling back after ``closureError`` failed.
    public var rollbackError: (any Error)?

    /// The error to report: the cause, or this error when the rollback failed as well.
    public var underlying: any Error {
        if rollbackError != nil { return self }
        return closureError ?? beginError ?? commitError ?? self
    }

    public var description: String {
        let parts: [(String, (any Error)?)] = [
            ("begin", beginError), ("body", closureError), ("commit", commitError), ("rollback", rollbackError),
        ]
        return "transaction failed: " + parts.compactMap { name, error in error.map { "\(name): \(String(reflecting: $0))" } }
            .joined(separator: "; ")
    }
}

/// `COMMIT` answered `ROLLBACK`: the transaction had failed, nothing of it was stored.
struct TransactionRolledBack: Error, CustomStringConvertible {
    var description: String { "COMMIT answered ROLLBACK: the transaction had failed and was rolled back" }
}

/// An open transaction of ``Database/withTransaction(_:)``: its connection, and a way to send
/// its last statement with `COMMIT` right behind it.
///
/// `BEGIN` is pipelined too: it is written to the connection and not awaited, so the
/// connection sends the first statement as soon as PostgreSQL answers `BEGIN`, from its event
/// loop, without a round trip through the transaction's task (postgres-nio's
/// `withTransaction` awaits it). This is safe because a connection runs its statements in
/// order: when `BEGIN` fails the statements after it fail too (the connection is gone, or it
/// is in a failed transaction), and the failure of `BEGIN` is reported before anything is
/// committed.
public final class PostgresTransaction: Sendable {
    public let connection: PostgresConnection
    let logger: Logger
    private let begin: EventLoopFuture<PostgresQueryResult>
    private let commit = Mutex<EventLoopFuture<PostgresQueryResult>?>(nil)

    private init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
        self.begin = connection.query("BEGIN", logger: logger)
    }

    /// Runs `query` as the transaction's last statement, with `COMMIT` written right behind it:
    /// the commit costs no round trip of its own. Nothing may run in the transaction after it.
    ///
    /// A query given here runs unprepared: postgres-nio sends a prepared statement that this
    /// connection has not prepared yet only after preparing it, which would let the `COMMIT`
    /// overtake it. When the query fails, the `COMMIT` ends the failed transaction (PostgreSQL
    /// rolls it back) and the query's error is thrown.
    public func queryAndCommit(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let result: EventLoopFuture<PostgresQueryResult> = connection.query(query, logger: logger)
        commit.withLock { commit in
            precondition(commit == nil, "a transaction commits once")
            commit = connection.query("COMMIT", logger: logger)
        }
        return try await result.get().rows
    }

    /// Runs `body` in a transaction on `connection`: `BEGIN`, the body, then `COMMIT` (unless
    /// the body committed with ``queryAndCommit(_:)``), or `ROLLBACK` when the body throws.
    static func run<Result>(
        on connection: PostgresConnection, logger: Logger, _ body: (PostgresTransaction) async throws -> sending Result
    ) async throws -> sending Result {
        let transaction = PostgresTransaction(connection: connection, logger: logger)
        let value: Result
        do {
            value = try await body(transaction)
        } catch {
            throw await transaction.rollBack(after: error)
        }
        do {
            _ = try await transaction.begin.get()
        } catch {
            throw TransactionError(beginError: error)
        }
        do {
            if let commit = transaction.commit.withLock({ $0 }) {
                guard try await commit.get().metadata.command == "COMMIT" else { throw TransactionRolledBack() }
            } else {
                try await connection.query("COMMIT", logger: logger)
            }
        } catch {
            throw TransactionError(commitError: error)
        }
        return value
    }

    /// Ends the transaction after its body threw `error`: `ROLLBACK`, unless the `COMMIT` was
    /// already sent (it ends a failed transaction as a rollback).
    ///
    /// A body that throws after its committing statement succeeded (it failed reading that
    /// statement's answer) leaves a committed transaction behind its error. The pipeline's
    /// bodies are safe to run again: the repeat finds its reports already recorded and ignores
    /// them, and the outbox rows the first run committed are published by the outbox relay.
    private func rollBack(after error: any Error) async -> TransactionError {
        var failure = TransactionError(closureError: error)
        do {
            _ = try await begin.get()
            if let commit = commit.withLock({ $0 }) {
                _ = try await commit.get()
            } else {
                try await connection.query("ROLLBACK", logger: logger)
            }
        } catch {
            failure.rollbackError = error
        }
        return failure
    }
}
