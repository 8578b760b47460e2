internal import TaskerAMQP
internal import TaskerCore

/// One of the topology's queues with its depth and consumers, as the broker reports them.
struct QueueStatus: Sendable, Hashable {
    enum Role: Sendable, Hashable {
        /// A namespace's step queue: its consumers are the workers serving the namespace.
        case steps(namespace: String)
        case requests, results, reenqueue, deadLetters
    }

    var name: String
    var role: Role
    /// Messages ready in the queue; `nil` when the queue does not exist (yet) or could not be read.
    var messages: Int?
    /// Consumers attached to it; `nil` as for ``messages``.
    var consumers: Int?
}

extension BrokerLink {
    /// The depth and consumers of the work queues, the dead-letter queue and the step queue of
    /// each of `namespaces`, by passive `queue.declare` (it changes nothing) on the publishing
    /// connection, whose own thread makes the calls. A queue that does not exist (no service
    /// declared it yet) has `nil` counts.
    /// - Throws: ``BrokerUnavailable`` while the broker is unreachable or too slow.
    func queueStatus(namespaces: [String]) async throws -> [QueueStatus] {
        guard publishing.isConnected else { throw BrokerUnavailable(description: "not connected to the broker") }
        let queues: [(String, QueueStatus.Role)] = Set(namespaces).sorted().map { (topology.stepsQueue(namespace: $0), .steps(namespace: $0)) } + [
            (topology.requestsQueue, .requests), (topology.resultsQueue, .results), (topology.reenqueueQueue, .reenqueue),
            (topology.deadLetterQueue, .deadLetters),
        ]
        let connection = publishing
        return try await withDeadline("queue status") {
            var statuses: [QueueStatus] = []
            for (name, role) in queues {
                do {
                    let info = try await connection.queueInfo(name)
                    statuses.append(QueueStatus(name: name, role: role, messages: info.messageCount, consumers: info.consumerCount))
                } catch let error as AMQPError where error.code == .channelClosed && error.replyCode == 404 {
                    // 404: nobody declared it yet (a namespace without a worker so far).
                    statuses.append(QueueStatus(name: name, role: role, messages: nil, consumers: nil))
                }
            }
            return statuses
        }
    }
}
