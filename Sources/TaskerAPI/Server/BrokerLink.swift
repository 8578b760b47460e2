public import Logging
public import ServiceLifecycle
internal import Synchronization
public import TaskerAMQP
public import TaskerCore
internal import TaskerPostgres
package import TaskerWire

/// The message broker could not be used in time; the client gets a 503.
public struct BrokerUnavailable: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// The API's two connections to RabbitMQ: one to publish (task starts, rejection events,
/// outbox rows), one for the dead-letter queue (browsing consumes). Both run as services
/// beside the HTTP server and reconnect by themselves.
///
/// Calls fail fast with ``BrokerUnavailable`` while a connection is down, and broker-only
/// operations have a deadline (``timeout``), so a request never hangs on the broker.
public final class BrokerLink: Sendable {
    let publishing: AMQPConnection
    let deadLetterConnection: AMQPConnection
    let topology: WireTopology
    /// The deadline of declaring the topology (dead-letter operations get at least 60 s).
    let timeout: Duration
    private let declared = Mutex(false)
    /// One dead-letter operation at a time: a browse holds the messages it looked at until it
    /// requeues them, so two concurrent browses would each see only part of the queue.
    private let deadLetterTurn = AsyncTurnstile()

    public init(amqp: AMQPConfiguration, topology: WireTopology, timeout: Duration = .seconds(10), logger: Logger) throws {
        var publish = amqp
        publish.connectionName = "tasker-api-publish"
        var deadLetters = amqp
        deadLetters.connectionName = "tasker-api-dlq"
        self.publishing = try AMQPConnection(configuration: publish, logger: logger)
        self.deadLetterConnection = try AMQPConnection(configuration: deadLetters, logger: logger)
        self.topology = topology
        self.timeout = timeout
    }

    /// The connections, to run beside the server.
    public var services: [any Service] { [publishing, deadLetterConnection] }

    /// The publishing connection (`tasker-api-publish`), for collaborators that publish on their
    /// own, e.g. the operator actions. It runs beside the server; calls wait for it to connect.
    public var publishingConnection: AMQPConnection { publishing }

    /// Whether both connections are up.
    public var isConnected: Bool { publishing.isConnected && deadLetterConnection.isConnected }

    /// The publisher, once the topology is declared (on first use; the connection declares it
    /// again after a reconnect).
    package func publisher() async throws -> WirePublisher {
        guard publishing.isConnected else { throw BrokerUnavailable(description: "not connected to the broker") }
        let publisher = WirePublisher(connection: publishing, topology: topology)
        if !declared.withLock({ $0 }) {
            let connection = publishing
            let topology = self.topology
            try await withDeadline("declare topology") {
                try await TaskerTopology.declare(on: connection, topology: topology, namespaces: [])
            }
            declared.withLock { $0 = true }
        }
        return publisher
    }

    /// Runs `body` with the dead-letter queue, alone and within the deadline.
    package func withDeadLetterQueue<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (DeadLetterQueue) async throws -> T
    ) async throws -> T {
        guard deadLetterConnection.isConnected else { throw BrokerUnavailable(description: "not connected to the broker") }
        let queue = DeadLetterQueue(connection: deadLetterConnection, topology: topology)
        await deadLetterTurn.enter()
        do {
            // A last resort: the queue's browse gives up on its own after 30 s.
            let result = try await withDeadline(operation, timeout: max(timeout, .seconds(60))) { try await body(queue) }
            await deadLetterTurn.leave()
            return result
        } catch {
            await deadLetterTurn.leave()
            throw error
        }
    }

    func withDeadline<T: Sendable>(
        _ operation: String, timeout: Duration? = nil, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        do {
            return try await Deadline.run(timeout ?? self.timeout, operation: operation, body)
        } catch let timeout as DatabaseTimeout {
            throw BrokerUnavailable(description: "broker \(operation) did not finish within \(timeout.timeout)")
        }
    }
}

/// An asynchronous lock: callers of ``enter()`` go through one at a time, in arrival order.
actor AsyncTurnstile {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
