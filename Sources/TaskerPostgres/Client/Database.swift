public import Logging
internal import Metrics
public import PostgresNIO
public import ServiceLifecycle
internal import Synchronization

/// The PostgreSQL connection pool of a Tasker process: postgres-nio's `PostgresClient` with a
/// deadline on every call, a readiness flag, and a supervisor that replaces a wedged pool.
///
/// After a server restart postgres-nio 1.33's pool was seen to stop serving leases for good
/// (docs/operations.md, "Database restarts"). So every call here has a deadline
/// (``callTimeout``); a call that misses it throws ``DatabaseTimeout`` and the pool it used is
/// replaced by a fresh one (at most once per ``callTimeout``). While no call succeeds the
/// database is reported not ready; an idle process probes it every ``probeInterval``.
///
/// ```swift
/// let database = Database(configuration: try .fromEnvironment(), logger: logger)
/// // run `database` in the ServiceGroup before (i.e. listed before) the services that use it
/// try await database.withTransaction { connection in try await connection.query("SELECT 1", logger: logger) }
/// ```
public final class Database: Service, Sendable {
    public let configuration: DatabaseConfiguration
    /// The deadline of every call (a whole transaction counts as one call).
    public let callTimeout: Duration
    /// How often an idle process checks that the database answers.
    public let probeInterval: Duration
    let logger: Logger

    private struct Pool {
        var client: PostgresClient
        var generation: Int
        var runner: Task<Void, Never>?
    }

    private struct State {
        var pool: Pool
        var ready = false
        var replacementRequested = false
        var lastReplacement: ContinuousClock.Instant?
        var lastSuccess: ContinuousClock.Instant?
        /// Whether ``run()`` has started the pool; calls made earlier wait here.
        var running = false
        var waitingForRun: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>

    public init(
        configuration: DatabaseConfiguration,
        logger: Logger,
        callTimeout: Duration = .seconds(15),
        probeInterval: Duration = .seconds(5)
    ) {
        self.configuration = configuration
        self.logger = logger
        self.callTimeout = callTimeout
        self.probeInterval = probeInterval
        let client = configuration.makeClient(logger: logger)
        self.state = Mutex(State(pool: Pool(client: client, generation: 1)))
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Whether the last call (or probe) succeeded: false while the database is unreachable or
    /// the pool is being replaced.
    public var isReady: Bool { state.withLock { $0.ready } }

    /// The current postgres-nio client, for one-shot tools (migrations, benchmarks) that need
    /// its API directly. Calls made on it have no deadline; services use the methods below.
    public var currentClient: PostgresClient { state.withLock { $0.pool.client } }

    // MARK: Calls

    /// Runs `body` in a transaction (BEGIN … COMMIT, ROLLBACK when it throws) within
    /// ``callTimeout``. A failure is a ``TransactionError`` saying at which point it happened.
    public func withTransaction<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await transaction { transaction in try await body(transaction.connection) }
    }

    /// Runs `body` in a ``PostgresTransaction`` within ``callTimeout``: `BEGIN` is pipelined
    /// with the first statement, the last may carry the `COMMIT`
    /// (``PostgresTransaction/queryAndCommit(_:)``), and the body runs on its connection's
    /// event loop (``EventLoopTaskExecutor``). A failure is a ``TransactionError``.
    public func transaction<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresTransaction) async throws -> Result
    ) async throws -> Result {
        let logger = self.logger
        return try await onLeasedConnectionLoop("transaction") { connection in
            try await PostgresTransaction.run(on: connection, logger: logger) { transaction in try await body(transaction) }
        }
    }

    /// Runs `body` on one leased connection within ``callTimeout``, on the connection's event
    /// loop (``EventLoopTaskExecutor``), outside any explicit transaction: each of its
    /// statements commits on its own.
    public func onConnectionLoop<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await onLeasedConnectionLoop("connection", body)
    }

    /// A ``call(_:_:)`` that leases a connection and runs `body` on its event loop.
    private func onLeasedConnectionLoop<Result: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await call(operation) { client in
            try await client.withConnection { connection in
                try await withTaskExecutorPreference(EventLoopTaskExecutor(connection.eventLoop)) { try await body(connection) }
            }
        }
    }

    /// Runs `body` on one leased connection within ``callTimeout``.
    public func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await call("connection") { client in try await client.withConnection(body) }
    }

    /// Runs one query and collects its rows within ``callTimeout``.
    public func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let logger = self.logger
        return try await call("query") { client in
            var rows: [PostgresRow] = []
            for try await row in try await client.query(query, logger: logger) { rows.append(row) }
            return rows
        }
    }

    private func call<Result: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let (client, generation) = state.withLock { ($0.pool.client, $0.pool.generation) }
        let started = ContinuousClock.now
        do {
            let result = try await Deadline.run(callTimeout, operation: operation) {
                await self.untilRunning()
                return try await body(client)
            }
            DatabaseMetrics.call(operation, outcome: "ok", started: started)
            succeeded()
            return result
        } catch let timeout as DatabaseTimeout {
            DatabaseMetrics.call(operation, outcome: "timeout", started: started)
            logger.warning("database call missed its deadline", metadata: ["db.operation": "\(operation)", "db.timeout": "\(callTimeout)"])
            requestReplacement(of: generation, reason: "\(timeout)")
            throw timeout
        } catch {
            DatabaseMetrics.call(operation, outcome: Self.isConnectionFailure(error) ? "unavailable" : "error", started: started)
            if Self.isConnectionFailure(error) { markNotReady(reason: "\(String(reflecting: error).prefix(200))") }
            throw error
        }
    }

    /// Whether `error` says the database is unavailable (unreachable, or a call missed its
    /// deadline) rather than refusing a statement: retrying the same work elsewhere or later
    /// may succeed; splitting a batch to find a bad element will not.
    public static func isUnavailable(_ error: any Error) -> Bool {
        error is DatabaseTimeout || isConnectionFailure(error)
    }

    /// Whether `error` says the database could not be reached.
    static func isConnectionFailure(_ error: any Error) -> Bool {
        if let error = error as? TransactionError {
            return [error.beginError, error.closureError, error.commitError, error.rollbackError].contains { $0.map(isConnectionFailure) ?? false }
        }
        guard let error = error as? PSQLError else { return false }
        return [.connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown].contains(error.code)
    }

    private func succeeded() {
        let becameReady = state.withLock { state in
            state.lastSuccess = .now
            defer { state.ready = true }
            return !state.ready
        }
        if becameReady { DatabaseMetrics.ready(true) }
        if becameReady { logger.info("database ready", metadata: ["db": "\(configuration)"]) }
    }

    private func markNotReady(reason: String) {
        let wasReady = state.withLock { state in
            defer { state.ready = false }
            return state.ready
        }
        if wasReady { DatabaseMetrics.ready(false) }
        if wasReady { logger.warning("database not ready", metadata: ["db": "\(configuration)", "db.reason": "\(reason)"]) }
    }

    /// Asks the supervisor to replace pool `generation` (ignored if it was replaced already).
    private func requestReplacement(of generation: Int, reason: String) {
        markNotReady(reason: reason)
        let requested = state.withLock { state in
            guard state.pool.generation == generation, !state.replacementRequested else { return false }
            state.replacementRequested = true
            return true
        }
        if requested { wake.yield() }
    }

    /// Waits until the database answers `SELECT 1`, retrying with backoff (0.5 s doubling to
    /// 10 s, each failure logged at warning) for up to `timeout`; then throws the last error.
    /// A service calls it first, so one started during an outage waits instead of exiting.
    public func waitUntilReachable(timeout: Duration) async throws {
        let giveUp = ContinuousClock.now + timeout
        var delay = Duration.milliseconds(500)
        while true {
            do {
                _ = try await query("SELECT 1")
                return
            } catch {
                guard !(error is CancellationError), ContinuousClock.now + delay < giveUp else { throw error }
                logger.warning(
                    "database unreachable at start; retrying",
                    metadata: ["db": "\(configuration)", "db.retry_in": "\(delay)", "db.error": "\(String(reflecting: error).prefix(300))"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
    }

    // MARK: Supervision

    /// Runs the pool until graceful shutdown or cancellation; replaces it when it is wedged and
    /// probes the database when the process is idle.
    public func run() async throws {
        DatabaseMetrics.prime()
        startRunner()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.probeLoop() }
                for await _ in wakes {
                    await replaceIfRequested()
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.wake.finish()
        }
        let runner = state.withLock { $0.pool.runner }
        runner?.cancel()
        // A wedged pool may never end its run(); give it a moment, then leave it.
        _ = try? await Deadline.run(.seconds(2), operation: "pool shutdown") { await runner?.value }
    }

    private func startRunner() {
        let client = state.withLock { $0.pool.client }
        // An immediate task enters the client's run() on this thread, so the pool is running
        // before any waiting call leases from it (postgres-nio warns about a lease before run()).
        let runner = Task.immediate { await client.run() }
        let waiting = state.withLock { state in
            state.pool.runner = runner
            state.running = true
            defer { state.waitingForRun = [] }
            return state.waitingForRun
        }
        for waiter in waiting { waiter.resume() }
    }

    /// Returns once ``run()`` has started the pool: a call made while the service group is
    /// still starting waits for it instead of leasing from a pool that is not running.
    private func untilRunning() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.running { return true }
                state.waitingForRun.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private func replaceIfRequested() async {
        let minimumGap = callTimeout
        let wait: Duration? = state.withLock { state in
            guard state.replacementRequested else { return nil }
            if let last = state.lastReplacement, last.duration(to: .now) < minimumGap { return minimumGap - last.duration(to: .now) }
            return .zero
        }
        guard let wait else { return }
        if wait > .zero { try? await Task.sleep(for: wait) }
        let fresh = configuration.makeClient(logger: logger)
        let freshRunner = Task.immediate { await fresh.run() }
        let (old, generation) = state.withLock { state in
            let old = state.pool
            state.pool = Pool(client: fresh, generation: old.generation + 1, runner: freshRunner)
            state.replacementRequested = false
            state.lastReplacement = .now
            return (old, state.pool.generation)
        }
        old.runner?.cancel()
        logger.warning("database pool replaced after a missed deadline", metadata: ["db": "\(configuration)", "db.pool.generation": "\(generation)"])
    }

    /// Probes with `SELECT 1` when nothing succeeded for a ``probeInterval``: this finds a
    /// wedged pool (and sets readiness) even when no work arrives.
    private func probeLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: probeInterval)
            let idle = state.withLock { state in state.lastSuccess.map { $0.duration(to: .now) >= probeInterval } ?? true }
            guard idle, !Task.isCancelled else { continue }
            _ = try? await query("SELECT 1")
        }
    }
}
