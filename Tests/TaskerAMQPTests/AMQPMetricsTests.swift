import Metrics
import MetricsTestKit
import TaskerAMQP
import Testing

extension AMQPConnectionTests {
    @Test("counters are reported through swift-metrics", .timeLimit(.minutes(1)))
    func metrics() async throws {
        let metrics = TestMetrics()
        let queue = uniqueName()
        let name = "metrics-\(UInt32.random(in: 0...UInt32.max))"
        try await withMetricsFactory(metrics) {
            try await withTestConnection(name: name) { connection in
                try await connection.declare(AMQPQueue(name: queue, durable: false))
                for index in 0..<3 { try await connection.publish(Array("\(index)".utf8), routingKey: queue) }
                await #expect(throws: AMQPError.self) {
                    try await connection.publish(Array("x".utf8), routingKey: queue + ".nowhere", mandatory: true)
                }
                let consumer = try await connection.consume(queue: queue, prefetch: 10)
                var received = 0
                for try await delivery in consumer {
                    received += 1
                    if received == 3 { try delivery.reject(requeue: false) } else { try delivery.ack() }
                    if received == 3 { break }
                }
                await consumer.cancel()
                try await connection.deleteQueue(queue)
            }
        }
        let dimensions = [("connection", name)]
        #expect(try metrics.expectCounter("tasker.amqp.published", dimensions).totalValue == 4)
        #expect(try metrics.expectCounter("tasker.amqp.confirmed", dimensions).totalValue == 3)
        #expect(try metrics.expectCounter("tasker.amqp.returned", dimensions).totalValue == 1)
        #expect(try metrics.expectCounter("tasker.amqp.delivered", dimensions).totalValue == 3)
        #expect(try metrics.expectCounter("tasker.amqp.acked", dimensions).totalValue == 2)
        #expect(try metrics.expectCounter("tasker.amqp.rejected", dimensions).totalValue == 1)
        #expect(try metrics.expectCounter("tasker.amqp.nacked", dimensions).totalValue == 0)
        #expect(try metrics.expectCounter("tasker.amqp.reconnects", dimensions).totalValue == 0)
    }
}
