import Foundation
import Synchronization
import Testing
import TaskerAMQP
import TaskerCore
@testable import TaskerServices

/// ``BatchedConsumption`` on a real queue: every delivery is handled once, a batch holds one
/// lane's keys only, and the lanes' batches run at the same time.
@Suite(.serialized, .timeLimit(.minutes(2))) struct BatchedConsumptionTests {
    final class Record: Sendable {
        struct State {
            var handled: [Int] = []
            var batchesWithMixedLanes = 0
            var running = 0
            var mostRunning = 0
        }
        let state = Mutex(State())
    }

    @Test func eachBatchHoldsOneLaneAndLanesRunAtOnce() async throws {
        try await PipelineHarness.run { harness in
            try await AMQPConnection.withConnection(configuration: harness.amqp, logger: harness.logger) { connection in
                let queue = "\(harness.topology.prefix).test-lanes"
                try await connection.declare(AMQPQueue(name: queue, type: .classic, durable: false, autoDelete: true))
                let count = 300
                let lanes = 3
                let messages = (0..<count).map { index in
                    AMQPMessage(body: Array("\(index)".utf8), routingKey: queue)
                }
                for result in await connection.publish(contentsOf: messages) { try result.get() }
                let consumer = try await connection.consume(queue: queue, prefetch: 100)
                let record = Record()
                let run = Task {
                    await BatchedConsumption.run(
                        consumer, maxBatch: 20, lanes: lanes, logger: harness.logger,
                        prepare: { delivery in
                            let index = Int(String(decoding: delivery.body, as: UTF8.self))!
                            // Keys 0..<50 stand for tasks: several messages share one.
                            return [(element: (delivery, index), key: UInt64(index % 50))]
                        }
                    ) { batch in
                        record.state.withLock { state in
                            state.running += 1
                            state.mostRunning = max(state.mostRunning, state.running)
                            if Set(batch.map { $0.1 % 50 % lanes }).count > 1 { state.batchesWithMixedLanes += 1 }
                        }
                        try? await Task.sleep(for: .milliseconds(15))
                        for (delivery, _) in batch { try? delivery.ack() }
                        record.state.withLock { state in
                            state.running -= 1
                            state.handled += batch.map(\.1)
                        }
                    }
                }
                for _ in 0..<200 where record.state.withLock({ $0.handled.count }) < count {
                    try await Task.sleep(for: .milliseconds(50))
                }
                run.cancel()
                await run.value
                let state = record.state.withLock { $0 }
                #expect(state.handled.sorted() == Array(0..<count), "each delivery handled exactly once")
                #expect(state.batchesWithMixedLanes == 0)
                #expect(state.mostRunning >= 2, "batches of different lanes run at once")
            }
        }
    }
}
