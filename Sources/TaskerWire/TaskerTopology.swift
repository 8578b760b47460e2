package import TaskerAMQP
package import TaskerCore

/// The RabbitMQ exchanges, queues and bindings of a Tasker installation.
///
/// Every service (coordinator, finalizer, reenqueuer, worker) calls ``declare(on:topology:namespaces:)``
/// when it starts. Declarations are idempotent and identical everywhere, so the order in
/// which services start never matters.
///
/// | name | kind | bound to |
/// |---|---|---|
/// | `requestsExchange` | topic exchange | |
/// | `eventsExchange` | topic exchange | |
/// | `stepsExchange` | direct exchange | |
/// | `resultsExchange` | direct exchange | |
/// | `controlExchange` | direct exchange | (each worker binds a private queue per namespace) |
/// | `deadLetterExchange` | fanout exchange | |
/// | `deadLetterQueue` | quorum queue | `deadLetterExchange` |
/// | `requestsQueue` | quorum queue, DLX, delivery limit | `requestsExchange` with `#` |
/// | `resultsQueue` | quorum queue, DLX, delivery limit | `resultsExchange` with `resultsRoutingKey` |
/// | `stepsQueue(namespace:)` | quorum queue, DLX, delivery limit | `stepsExchange` with the namespace |
/// | `reenqueueQueue` | quorum queue, DLX, delivery limit | `eventsExchange` with `step.retry_scheduled` |
///
/// Work queues dead-letter to `deadLetterExchange` after ``deliveryLimit`` deliveries (poison
/// messages) with `x-dead-letter-strategy: at-least-once` and `x-overflow: reject-publish`:
/// RabbitMQ's quorum dead-lettering is otherwise at-most-once.
package enum TaskerTopology {
    /// How many times a work queue delivers a message before dead-lettering it.
    static let deliveryLimit = 20

    /// Declares every exchange, queue and binding (idempotent).
    /// - Parameters:
    ///   - connection: The connection to declare on (declarations are replayed after a reconnect).
    ///   - topology: The names to use.
    ///   - namespaces: The template namespaces whose steps queues to declare.
    package static func declare(on connection: AMQPConnection, topology: WireTopology, namespaces: [String]) async throws {
        try await connection.declare(
            exchanges: exchanges(topology),
            queues: queues(topology, namespaces: namespaces),
            bindings: bindings(topology, namespaces: namespaces)
        )
    }

    /// Deletes the queues and exchanges ``declare(on:topology:namespaces:)`` declares, with
    /// their messages (best effort: what is already gone is skipped). For short-lived
    /// topologies (benchmarks, tests): every quorum queue left behind keeps costing the broker.
    package static func delete(on connection: AMQPConnection, topology: WireTopology, namespaces: [String]) async {
        for queue in queues(topology, namespaces: namespaces) { try? await connection.deleteQueue(queue.name) }
        for exchange in exchanges(topology) { try? await connection.deleteExchange(exchange.name) }
    }

    /// The exchanges ``declare(on:topology:namespaces:)`` declares.
    package static func exchanges(_ topology: WireTopology) -> [AMQPExchange] {
        [
            AMQPExchange(name: topology.requestsExchange, kind: .topic),
            AMQPExchange(name: topology.eventsExchange, kind: .topic),
            AMQPExchange(name: topology.stepsExchange, kind: .direct),
            AMQPExchange(name: topology.resultsExchange, kind: .direct),
            AMQPExchange(name: topology.controlExchange, kind: .direct),
            AMQPExchange(name: topology.deadLetterExchange, kind: .fanout),
        ]
    }

    /// The queues ``declare(on:topology:namespaces:)`` declares.
    package static func queues(_ topology: WireTopology, namespaces: [String]) -> [AMQPQueue] {
        var queues = [
            AMQPQueue(name: topology.deadLetterQueue, type: .quorum),
            workQueue(topology.requestsQueue, topology),
            workQueue(topology.resultsQueue, topology),
            workQueue(topology.reenqueueQueue, topology),
        ]
        for namespace in uniqued(namespaces) {
            queues.append(workQueue(topology.stepsQueue(namespace: namespace), topology))
        }
        return queues
    }

    /// The bindings ``declare(on:topology:namespaces:)`` declares.
    package static func bindings(_ topology: WireTopology, namespaces: [String]) -> [AMQPBinding] {
        var bindings = [
            AMQPBinding(queue: topology.deadLetterQueue, exchange: topology.deadLetterExchange),
            AMQPBinding(queue: topology.requestsQueue, exchange: topology.requestsExchange, routingKey: "#"),
            AMQPBinding(queue: topology.resultsQueue, exchange: topology.resultsExchange, routingKey: topology.resultsRoutingKey),
            AMQPBinding(
                queue: topology.reenqueueQueue,
                exchange: topology.eventsExchange,
                routingKey: LifecycleEventName.stepRetryScheduled.rawValue
            ),
        ]
        for namespace in uniqued(namespaces) {
            bindings.append(AMQPBinding(queue: topology.stepsQueue(namespace: namespace), exchange: topology.stepsExchange, routingKey: namespace))
        }
        return bindings
    }

    /// Declares a worker's private control queue (`controlQueue(worker:)`: exclusive,
    /// transient, deleted with the connection) and binds it to the control exchange for each
    /// of `namespaces`. Returns the queue's name.
    package static func declareControlQueue(
        on connection: AMQPConnection, topology: WireTopology, worker: String, namespaces: [String]
    ) async throws -> String {
        let queue = topology.controlQueue(worker: worker)
        try await connection.declare(
            queues: [AMQPQueue(name: queue, durable: false, exclusive: true, autoDelete: true)],
            bindings: uniqued(namespaces).map { AMQPBinding(queue: queue, exchange: topology.controlExchange, routingKey: $0) }
        )
        return queue
    }

    /// A durable quorum queue that dead-letters poison messages at least once.
    private static func workQueue(_ name: String, _ topology: WireTopology) -> AMQPQueue {
        AMQPQueue(
            name: name,
            type: .quorum,
            deadLetterExchange: topology.deadLetterExchange,
            deliveryLimit: deliveryLimit,
            arguments: [
                "x-dead-letter-strategy": .string("at-least-once"),
                "x-overflow": .string("reject-publish"),
            ]
        )
    }

    private static func uniqued(_ namespaces: [String]) -> [String] {
        var seen = Set<String>()
        return namespaces.filter { seen.insert($0).inserted }
    }
}
