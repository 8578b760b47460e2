internal import Foundation
public import Logging
public import TaskerAMQP
public import TaskerCore
internal import TaskerWire
internal import Synchronization

/// Publishes task requests and waits for the coordinator's replies.
///
/// Replies come back on a private, exclusive queue and are matched to requests by
/// correlation id, so any number of requests may be in flight at once.
///
/// ```swift
/// try await TaskRequestClient.withClient(connection: connection, topology: topology, logger: logger) { client in
///     let reply = try await client.submit(TaskRequest(namespace: "examples", name: "linear", context: ["even_number": 2]))
/// }
/// ```
public final class TaskRequestClient: Sendable {
    let wire: WirePublisher
    let replyQueue: String
    private let waiting = Mutex<[String: CheckedContinuation<TaskRequestReply, any Error>]>([:])

    init(connection: AMQPConnection, topology: WireTopology) {
        self.wire = WirePublisher(connection: connection, topology: topology)
        self.replyQueue = "\(topology.prefix).reply.\(UUID().uuidString.lowercased())"
    }

    /// Runs `body` with a client whose reply consumer lives as long as the closure.
    public static func withClient<T: Sendable>(
        connection: AMQPConnection,
        topology: WireTopology,
        logger: Logger,
        _ body: @Sendable (TaskRequestClient) async throws -> T
    ) async throws -> T {
        let client = TaskRequestClient(connection: connection, topology: topology)
        _ = try await connection.declare(AMQPQueue(name: client.replyQueue, durable: false, exclusive: true, autoDelete: true))
        let replies = try await connection.consume(queue: client.replyQueue, prefetch: 500)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await delivery in replies {
                    try? delivery.ack()
                    client.deliver(delivery)
                }
            }
            defer {
                group.cancelAll()
                client.failAll(AMQPReplyError(message: "request client closed"))
            }
            let result = try await body(client)
            await replies.cancel()
            return result
        }
    }

    /// Publishes `request` (with confirm) and returns the coordinator's reply.
    /// - Parameter timeout: how long to wait for the reply.
    public func submit(_ request: TaskRequest, timeout: Duration = .seconds(30)) async throws -> TaskRequestReply {
        let correlation = UUID().uuidString
        return try await withThrowingTaskGroup(of: TaskRequestReply.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { continuation in
                    self.waiting.withLock { $0[correlation] = continuation }
                    Task {
                        // Publishing after registering the continuation: a fast reply cannot be missed.
                        do {
                            try await self.wire.publish(request, correlationID: correlation, replyTo: self.replyQueue)
                        } catch {
                            self.fail(correlation, error)
                        }
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                self.fail(correlation, AMQPReplyError(message: "no reply within \(timeout)"))
                throw AMQPReplyError(message: "no reply within \(timeout)")
            }
            let reply = try await group.next()!
            group.cancelAll()
            return reply
        }
    }

    /// Publishes a request without waiting for a reply.
    public func send(_ request: TaskRequest) async throws {
        try await wire.publish(request, correlationID: nil, replyTo: nil)
    }

    private func deliver(_ delivery: AMQPDelivery) {
        guard let correlation = delivery.properties.correlationID,
            let continuation = waiting.withLock({ $0.removeValue(forKey: correlation) })
        else { return }
        do {
            continuation.resume(returning: try WireCoding.decode(TaskRequestReply.self, from: Data(delivery.body)))
        } catch {
            continuation.resume(throwing: error)
        }
    }

    private func fail(_ correlation: String, _ error: any Error) {
        waiting.withLock { $0.removeValue(forKey: correlation) }?.resume(throwing: error)
    }

    private func failAll(_ error: any Error) {
        let all = waiting.withLock { state in
            defer { state.removeAll() }
            return Array(state.values)
        }
        for continuation in all { continuation.resume(throwing: error) }
    }
}

/// No reply came for a task request.
public struct AMQPReplyError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
