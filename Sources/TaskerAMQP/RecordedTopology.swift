/// The exchanges, queues and bindings declared through a connection, kept so that they can be
/// declared again after a reconnect.
///
/// Only successful declarations are recorded. Server-named and exclusive queues are not (they
/// die with the connection); deleting a queue or an exchange also forgets its bindings.
///
/// This is a pure value: no I/O, no C calls.
package struct RecordedTopology {
    private var exchangesByName: [String: AMQPExchange] = [:]
    private var queuesByName: [String: AMQPQueue] = [:]
    /// The bindings, in the order they were first made.
    package private(set) var bindings: [AMQPBinding] = []

    package init() {}

    /// The exchanges to re-declare, by name.
    package var exchanges: [AMQPExchange] { exchangesByName.values.sorted { $0.name < $1.name } }

    /// The queues to re-declare, by name.
    package var queues: [AMQPQueue] { queuesByName.values.sorted { $0.name < $1.name } }

    package mutating func declared(_ exchange: AMQPExchange) {
        exchangesByName[exchange.name] = exchange
    }

    package mutating func declared(_ queue: AMQPQueue) {
        guard !queue.name.isEmpty && !queue.exclusive else { return }
        queuesByName[queue.name] = queue
    }

    package mutating func bound(_ binding: AMQPBinding) {
        if !bindings.contains(binding) { bindings.append(binding) }
    }

    package mutating func deletedQueue(_ name: String) {
        queuesByName[name] = nil
        bindings.removeAll { $0.queue == name }
    }

    package mutating func deletedExchange(_ name: String) {
        exchangesByName[name] = nil
        bindings.removeAll { $0.exchange == name }
    }
}
