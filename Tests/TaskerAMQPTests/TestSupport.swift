import Foundation
import Logging
import TaskerAMQP
import Testing

/// The broker URL from `AMQP_URL`, defaulting to the private test node.
let amqpURL = ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://tasker:tasker@127.0.0.1:5673/%2f"

/// A logger for tests; `LOG_LEVEL=debug swift test` shows the client's debug logs.
let testLogger: Logger = {
    var logger = Logger(label: "tasker.amqp.tests")
    logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}()

func testConfiguration(name: String = "tasker-tests", heartbeat: Duration = .seconds(5)) throws -> AMQPConfiguration {
    var configuration = try AMQPConfiguration(url: amqpURL, connectionName: name)
    configuration.heartbeat = heartbeat
    configuration.reconnect.initialDelay = .milliseconds(200)
    configuration.reconnect.maxDelay = .seconds(2)
    return configuration
}

/// A name unique to the calling test, for queues and exchanges.
func uniqueName(_ function: String = #function) -> String {
    let base = function.prefix { $0.isLetter || $0.isNumber }
    return "test.\(base).\(UInt32.random(in: 0...UInt32.max))"
}

func withTestConnection<R>(
    name: String = "tasker-tests",
    heartbeat: Duration = .seconds(5),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (AMQPConnection) async throws -> R
) async throws -> R {
    try await AMQPConnection.withConnection(configuration: testConfiguration(name: name, heartbeat: heartbeat), logger: testLogger, body)
}

struct TestTimeout: Error, CustomStringConvertible {
    var description: String
}

/// Runs `body`, failing with ``TestTimeout`` if it takes longer than `duration`.
func withTimeout<T: Sendable>(
    _ duration: Duration,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: duration)
            throw TestTimeout(description: "timed out after \(duration): \(what)")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Publishes messages `start..<start+count` with up to `window` confirms in flight. The message id is the index.
/// Retryable failures are retried; returns the indices whose publish was confirmed.
@discardableResult
func publishMessages(
    _ connection: AMQPConnection,
    queue: String,
    count: Int,
    from start: Int = 0,
    window: Int = 500,
    body: [UInt8] = Array(repeating: 0x61, count: 200),
    retry: Bool = false
) async throws -> Set<Int> {
    try await withThrowingTaskGroup(of: Int.self) { group in
        var confirmed = Set<Int>()
        var next = start
        let end = start + count
        func add() {
            let index = next
            next += 1
            group.addTask {
                while true {
                    do {
                        try await connection.publish(
                            body, routingKey: queue,
                            properties: AMQPProperties(messageID: "\(index)", persistent: true)
                        )
                        return index
                    } catch let error as AMQPError where retry && error.isRetryable {
                        try await Task.sleep(for: .milliseconds(50))  // back off before republishing
                    }
                }
            }
        }
        while next < min(start + window, end) { add() }
        while let index = try await group.next() {
            confirmed.insert(index)
            if next < end { add() }
        }
        return confirmed
    }
}

/// Runs `rabbitmqctl` on the private test node through `ops/lib.sh`.
func rabbitctl(_ arguments: String...) async throws {
    try await opsShell("rabbitctl " + arguments.joined(separator: " "))
}

/// Force-closes, on the broker side, the connections whose `connection_name` is `name`.
func closeConnectionOnBroker(named name: String) async throws {
    try await opsShell(
        """
        rabbitctl list_connections pid client_properties | grep -F '"connection_name","\(name)"' | cut -f1 \
          | while read -r pid; do rabbitctl close_connection "$pid" "closed by test"; done
        """
    )
}

/// Runs a bash script with `ops/lib.sh` sourced, from the package root.
func opsShell(_ script: String) async throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", ". ops/lib.sh; " + script]
    process.currentDirectoryURL = root
    process.standardOutput = FileHandle.nullDevice
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    guard status == 0 else { throw TestTimeout(description: "ops script exited with \(status): \(script)") }
}

/// Waits until `condition` holds, checking every 10 ms, failing after `timeout`.
func eventually(
    _ what: String,
    timeout: Duration = .seconds(30),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TestTimeout(description: "timed out after \(timeout): \(what)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}
