import Foundation
import TaskerAMQP
import TaskerTestSupport
import Testing

extension AMQPConnectionTests {
    /// Runs the benchmark. In a release build (`swift test -c release --filter benchmark`) it also
    /// checks the throughput targets on a quorum queue: 15,000 msg/s publishing with confirms,
    /// 20,000 msg/s consuming with acks.
    @Test("benchmark", .timeLimit(.minutes(1)), .serialized, arguments: [AMQPQueue.QueueType.classic, .quorum])
    func benchmark(queueType: AMQPQueue.QueueType) async throws {
        #if DEBUG
        let messages = 10_000
        #else
        let messages = Int(ProcessInfo.processInfo.environment["AMQP_BENCH_MESSAGES"] ?? "") ?? 50_000
        #endif
        let result = try await AMQPBenchmark.run(url: testAMQPURL, messages: messages, size: 200, queueType: queueType, logger: testLogger)
        print(result.table)
        #if !DEBUG
        // Targets for the recommended queue type. Classic durable queues are bounded by the broker
        // on a 2-core machine (the raw C client measures about the same there), so they are only reported.
        if queueType == .quorum {
            #expect(result.publishRate >= 15_000)
            #expect(result.consumeRate >= 20_000)
        }
        #endif
    }
}

extension AMQPConnectionTests {
    /// The hop benchmark measures every message it sends, each hop a positive duration well under
    /// a second on a local broker.
    @Test("hop benchmark", .timeLimit(.minutes(1)))
    func hopBenchmark() async throws {
        let hops = try await AMQPHopBenchmark.run(url: testAMQPURL, messages: 20, pause: .milliseconds(1), logger: testLogger)
        #expect(hops.count == 20)
        #expect(hops.allSatisfy { $0 > 0 && $0 < 1_000 })
    }
}
