import TaskerAMQP
import TaskerTestSupport

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
    try await AMQPConnection.withConnection(configuration: testAMQPConfiguration(name: name, heartbeat: heartbeat), logger: testLogger, body)
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

/// Force-closes, on the broker side, the connections whose `connection_name` is `name`.
func closeConnectionOnBroker(named name: String) async throws {
    try await opsShell(
        """
        rabbitctl list_connections pid client_properties | grep -F '"connection_name","\(name)"' | cut -f1 \
          | while read -r pid; do rabbitctl close_connection "$pid" "closed by test"; done
        """
    )
}
