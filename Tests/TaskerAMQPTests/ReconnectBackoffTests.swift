import TaskerAMQP
import TaskerTestSupport
import Testing

/// Reconnect backoff, without a broker.
@Suite("ReconnectBackoff (no broker)")
struct ReconnectBackoffTests {
    private let policy = AMQPConfiguration.Reconnect(initialDelay: .milliseconds(100), maxDelay: .seconds(10), multiplier: 2, jitter: 0.5)

    /// The delay of attempt `attempt` (0-based) before jitter.
    private func uncapped(_ attempt: Int) -> Duration {
        min(.milliseconds(100) * (1 << attempt), .seconds(10))
    }

    @Test("delays double from the initial delay and stop growing at the cap")
    func growthAndCap() {
        var backoff = ReconnectBackoff(policy: policy)
        var delays: [Duration] = []
        for _ in 0..<10 { delays.append(backoff.nextDelay(random: 0)) }
        #expect(
            delays == [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000].map { Duration.milliseconds($0) }
        )
        #expect(backoff.attempts == 10)
        // Far beyond the cap the exponent no longer grows, so nothing overflows.
        for _ in 0..<1_000 { _ = backoff.nextDelay(random: 0) }
        #expect(backoff.nextDelay(random: 0) == .seconds(10))
        #expect(backoff.attempts == 1_011)
    }

    @Test("jitter takes off at most its fraction of the delay")
    func jitterBounds() {
        var generator = SplitMix64(seed: 1)
        var sawJitter = false
        for _ in 0..<200 {
            var backoff = ReconnectBackoff(policy: policy)
            for attempt in 0..<12 {
                let delay = backoff.nextDelay(using: &generator)
                let full = uncapped(attempt)
                // Half of the delay at most, and the result is truncated to whole milliseconds.
                #expect(delay <= full)
                #expect(delay >= full / 2 - .milliseconds(1))
                if delay < full - .milliseconds(1) { sawJitter = true }
            }
        }
        #expect(sawJitter)
    }

    @Test("the random extremes give the full delay and the delay minus the whole jitter")
    func jitterExtremes() {
        var low = ReconnectBackoff(policy: policy)
        var high = ReconnectBackoff(policy: policy)
        for attempt in 0..<10 {
            #expect(low.nextDelay(random: 0) == uncapped(attempt))
            #expect(high.nextDelay(random: 1) == uncapped(attempt) / 2)
        }
    }

    @Test("without jitter the sequence does not depend on the random source")
    func noJitter() {
        var policy = self.policy
        policy.jitter = 0
        var generator = SplitMix64(seed: 3)
        var backoff = ReconnectBackoff(policy: policy)
        for attempt in 0..<10 { #expect(backoff.nextDelay(using: &generator) == uncapped(attempt)) }
    }

    @Test("full jitter stays between zero and the delay")
    func fullJitter() {
        var policy = self.policy
        policy.jitter = 1
        var generator = SplitMix64(seed: 4)
        var backoff = ReconnectBackoff(policy: policy)
        for attempt in 0..<50 {
            let delay = backoff.nextDelay(using: &generator)
            #expect(delay >= .zero)
            #expect(delay <= uncapped(attempt))
        }
    }

    @Test("a new reconnection starts again from the initial delay")
    func freshStart() {
        var first = ReconnectBackoff(policy: policy)
        for _ in 0..<5 { _ = first.nextDelay(random: 0) }
        var next = ReconnectBackoff(policy: policy)
        #expect(next.attempts == 0)
        #expect(next.nextDelay(random: 0) == .milliseconds(100))
        #expect(next.attempts == 1)
    }
}
