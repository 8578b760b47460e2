import TaskerAMQP
import TaskerTestSupport
import Testing

extension AMQPConnectionTests {
    @Test("the monitor follows a connection's state and consumers, through a broker-side close", .timeLimit(.minutes(1)))
    func monitorFollowsConnectionAndConsumers() async throws {
        let monitor = AMQPConnectionMonitor()
        let name = "monitor-\(UInt32.random(in: 0...UInt32.max))"
        var configuration = try testAMQPConfiguration(name: name, heartbeat: .seconds(5))
        configuration.monitor = monitor
        #expect(!monitor.isReady())
        let queue = uniqueName()
        try await AMQPConnection.withConnection(configuration: configuration, logger: testLogger) { connection in
            #expect(monitor.connections.map(\.name) == [name])
            #expect(monitor.isReady(minimumConnections: 1))
            #expect(!monitor.isReady(minimumConnections: 2), "a second connection is missing")
            #expect(!monitor.isReady(minimumConnections: 1, minimumConsumers: 1), "no consumer yet")
            try await connection.declare(AMQPQueue(name: queue, durable: false))
            let consumer = try await connection.consume(queue: queue, prefetch: 1)
            #expect(monitor.isReady(minimumConnections: 1, minimumConsumers: 1))

            // Closed by the broker: not ready while reconnecting, ready again (consumer resumed) after.
            try await closeConnectionOnBroker(named: name)
            try await eventually("not ready after the broker closed the connection", timeout: .seconds(10)) { !monitor.isReady() }
            try await eventually("ready again after the reconnect", timeout: .seconds(20)) {
                monitor.isReady(minimumConnections: 1, minimumConsumers: 1)
            }
            await consumer.cancel()
            try await eventually("the cancelled consumer is no longer counted", timeout: .seconds(5)) {
                monitor.connections.first?.consumers == 0
            }
            try await connection.deleteQueue(queue)
        }
        #expect(monitor.connections.isEmpty, "a closed connection leaves the monitor")
    }
}
