// A minimal reproduction: does postgres-nio's PostgresClient keep serving after the server restarts?
//
// Four tasks loop `withTransaction` against one client configured as Tasker configures it (max 20
// connections, connect timeout 5 s). A plain thread (not the Swift concurrency pool, which a hang
// may starve) prints every second how many transactions completed and failed and how many calls
// are outstanding. Restart the server meanwhile, e.g. with `ops/restart-postgres fast`; the run
// exits 1 if no transaction completed during its last 5 seconds (the pool did not recover).
//
//   postgres-pool-restart-repro [seconds]
//   env: POSTGRES_HOSTNAME/PORT/USER/PASSWORD/DB; REPRO_MIN_CONNECTIONS (default 0, the pool's default)
//
// Cause (postgres-nio 1.33.2, upstream issue vapor/postgres-nio#657, fix proposed in #667): when
// the last connection closes while requests wait in the pool's queue and `minimumConnections` is
// 0, the pool opens no replacement; the queued requests wait until another request arrives, which
// never happens when every caller is already waiting. Restarting the server a few times in a row
// (ops/restart-postgres fast, then immediate) while four callers loop strands them within a few
// restarts; with REPRO_MIN_CONNECTIONS=1 the pool always replaces its last connection.
import Foundation
import Logging
import PostgresNIO
import Synchronization

let seconds = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 20
let env = ProcessInfo.processInfo.environment
var configuration = PostgresClient.Configuration(
    host: env["POSTGRES_HOSTNAME"] ?? "127.0.0.1", port: Int(env["POSTGRES_PORT"] ?? "") ?? 55432,
    username: env["POSTGRES_USER"] ?? "tasker", password: env["POSTGRES_PASSWORD"] ?? "tasker",
    database: env["POSTGRES_DB"] ?? "tasker", tls: .disable)
configuration.options.maximumConnections = 20
configuration.options.connectTimeout = .seconds(5)
// 0 is postgres-nio's default and strands queued requests (vapor/postgres-nio#657); Tasker uses 1.
configuration.options.minimumConnections = Int(env["REPRO_MIN_CONNECTIONS"] ?? "") ?? 0
var logger = Logger(label: "repro")
logger.logLevel = env["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
let client = PostgresClient(configuration: configuration, backgroundLogger: logger)

final class Counters: Sendable {
    let value = Mutex((completed: 0, failed: 0, outstanding: 0, lastError: ""))
}
let counters = Counters()

// Report from a plain thread: if the concurrency pool is starved, this still prints.
let reporter = Thread {
    var history: [Int] = []
    for second in 1...seconds {
        Thread.sleep(forTimeInterval: 1)
        let c = counters.value.withLock { $0 }
        history.append(c.completed)
        FileHandle.standardOutput.write(Data(
            "t=\(second)s completed=\(c.completed) failed=\(c.failed) outstanding=\(c.outstanding) last error: \(c.lastError)\n".utf8))
    }
    let stalled = history.count > 5 && history[history.count - 1] == history[history.count - 6]
    FileHandle.standardOutput.write(Data((stalled ? "STALLED: no transaction completed in the last 5 s\n" : "recovered\n").utf8))
    exit(stalled ? 1 : 0)
}
reporter.start()

await withTaskGroup(of: Void.self) { group in
    group.addTask { await client.run() }
    for _ in 0..<4 {
        group.addTask {
            while !Task.isCancelled {
                counters.value.withLock { $0.outstanding += 1 }
                do {
                    try await client.withTransaction(logger: logger) { connection in
                        _ = try await connection.query("SELECT pg_sleep(0.002)", logger: logger)
                    }
                    counters.value.withLock { $0.completed += 1; $0.outstanding -= 1 }
                } catch {
                    let text = String(String(reflecting: error).prefix(200))
                    counters.value.withLock { $0.failed += 1; $0.outstanding -= 1; $0.lastError = text }
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
        }
    }
}
