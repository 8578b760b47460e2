import TaskerAMQP
import TaskerTestSupport
import Testing

/// A connection to the nodes of a cluster (`AMQP_URL` listing several): parsing the list, and
/// against the real broker, trying the nodes in turn and reconnecting to the next one.
@Suite("AMQP node failover", .serialized)
struct AMQPFailoverTests {
    @Test("a list of URLs names the nodes of one cluster, in order")
    func parsesAList() throws {
        let configuration = try AMQPConfiguration(url: "amqps://u:p%2Cw@node-1:5671/prod, amqps://node-2:5672/prod,amqps://u:p%2Cw@[::1]/prod")
        #expect(configuration.endpoints == [
            AMQPEndpoint(host: "node-1", port: 5671), AMQPEndpoint(host: "node-2", port: 5672), AMQPEndpoint(host: "::1", port: 5671),
        ])
        #expect(configuration.username == "u" && configuration.password == "p,w" && configuration.virtualHost == "prod")
        #expect(configuration.endpoints.last?.description == "[::1]:5671")
        #expect(try AMQPConfiguration(url: "amqp://localhost").endpoints == [AMQPEndpoint(host: "localhost", port: 5672)])
        // Another node of the same cluster cannot have other credentials, another vhost or scheme.
        for mismatched in ["amqp://u:p@a/prod,amqp://v:p@b/prod", "amqp://u:p@a/prod,amqp://u:p@b/test", "amqp://a,amqps://b"] {
            #expect(throws: AMQPError.self, "\(mismatched)") { try AMQPConfiguration(url: mismatched) }
        }
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "amqp://a,") }
    }

    @Test("a node that does not answer is skipped at once", .timeLimit(.minutes(1)))
    func skipsADeadNode() async throws {
        var configuration = try testAMQPConfiguration(name: "failover-skip")
        let live = AMQPEndpoint(host: configuration.host, port: configuration.port)
        // Nothing listens on port 1: the first node refuses, the second is the real broker.
        configuration.host = "127.0.0.1"
        configuration.port = 1
        configuration.failoverEndpoints = [live]
        configuration.reconnect.initialDelay = .seconds(20)  // a retry round would break the time limit
        try await AMQPConnection.withConnection(configuration: configuration, logger: testLogger) { connection in
            #expect(connection.connectedEndpoint == live)
            let queue = uniqueName()
            try await connection.declare(AMQPQueue(name: queue, durable: false))
            try await connection.publish(Array("via the second node".utf8), routingKey: queue)
            #expect(try await connection.queueInfo(queue).messageCount == 1)
            try await connection.deleteQueue(queue)
        }
    }

    @Test("a lost connection reconnects to the next node and restores its consumers", .timeLimit(.minutes(1)))
    func reconnectsToTheNextNode() async throws {
        let name = "failover-\(UInt32.random(in: 0...UInt32.max))"
        var configuration = try testAMQPConfiguration(name: name)
        // Two names of the one test broker stand for two nodes of a cluster.
        let first = AMQPEndpoint(host: "127.0.0.1", port: configuration.port)
        let second = AMQPEndpoint(host: "localhost", port: configuration.port)
        configuration.host = first.host
        configuration.failoverEndpoints = [second]
        let queue = uniqueName()
        try await AMQPConnection.withConnection(configuration: configuration, logger: testLogger) { connection in
            #expect(connection.connectedEndpoint == first)
            try await connection.declare(AMQPQueue(name: queue, durable: false, autoDelete: false))
            let deliveries = try await connection.consume(queue: queue, prefetch: 10)
            try await closeConnectionOnBroker(named: name)
            try await eventually("reconnected") { connection.reconnectCount == 1 && connection.isConnected }
            #expect(connection.connectedEndpoint == second)
            // The queue was declared again and the consumer resumed on the new connection.
            try await connection.publish(Array("after failover".utf8), routingKey: queue)
            var iterator = deliveries.makeAsyncIterator()
            let delivery = try await iterator.next()
            #expect(delivery.map { String(decoding: $0.body, as: UTF8.self) } == "after failover")
            try delivery?.ack()
            try await connection.deleteQueue(queue)
        }
    }
}
