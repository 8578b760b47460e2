import TaskerTestSupport
import Testing
import TaskerCore

@Suite struct BackoffTests {
    @Test func exponentialWithCap() {
        let policy = BackoffPolicy(baseSeconds: 1, maxSeconds: 60)
        #expect((1...8).map { policy.baseDelay(afterAttempt: $0) } == [1, 2, 4, 8, 16, 32, 60, 60])
        #expect(policy.baseDelay(afterAttempt: 500) == 60)
    }

    @Test func jitterStaysWithinTenPercentAndVaries() {
        let policy = BackoffPolicy(baseSeconds: 2, maxSeconds: 60)
        var generator = SplitMix64(seed: 42)
        let delays = (0..<1_000).map { _ in policy.delay(afterAttempt: 3, using: &generator) }
        #expect(delays.allSatisfy { $0 >= 7.2 && $0 <= 8.8 })
        #expect(Set(delays).count > 900)
        #expect(delays.min()! < 7.4 && delays.max()! > 8.6)
    }

    @Test func requestedDelayWinsAndIsCappedAtOneHour() {
        let policy = BackoffPolicy()
        var generator = SplitMix64(seed: 1)
        #expect(policy.delay(afterAttempt: 1, requested: 17, using: &generator) == 17)
        #expect(policy.delay(afterAttempt: 1, requested: 86_400, using: &generator) == 3_600)
        #expect(policy.delay(afterAttempt: 1, requested: 0, using: &generator) == 0)
    }

    @Test func noJitterMeansExactDelay() {
        var generator = SplitMix64(seed: 7)
        #expect(BackoffPolicy(baseSeconds: 0.5, maxSeconds: 10, jitter: 0).delay(afterAttempt: 2, using: &generator) == 1)
    }

    @Test func retryDecisions() {
        var generator = SplitMix64(seed: 3)
        let policy = RetryPolicy(retryable: true, maxAttempts: 3, backoff: BackoffPolicy(jitter: 0))
        #expect(RetryDecision.decide(policy: policy, failedAttempt: 1, kind: .retryable, using: &generator) == .retry(delaySeconds: 1))
        #expect(RetryDecision.decide(policy: policy, failedAttempt: 2, kind: .timeout, using: &generator) == .retry(delaySeconds: 2))
        #expect(RetryDecision.decide(policy: policy, failedAttempt: 3, kind: .retryable, using: &generator)
            == .giveUp(reason: "attempts exhausted (3 of 3)"))
        #expect(RetryDecision.decide(policy: policy, failedAttempt: 1, kind: .permanent, using: &generator)
            == .giveUp(reason: "permanent failure"))
        #expect(RetryDecision.decide(policy: policy, failedAttempt: 1, kind: .retryable, requestedDelaySeconds: 9, using: &generator)
            == .retry(delaySeconds: 9))
        let once = RetryPolicy(retryable: true, maxAttempts: 1)
        #expect(RetryDecision.decide(policy: once, failedAttempt: 1, kind: .retryable, using: &generator)
            == .giveUp(reason: "attempts exhausted (1 of 1)"))
        let never = RetryPolicy(retryable: false, maxAttempts: 5)
        #expect(RetryDecision.decide(policy: never, failedAttempt: 1, kind: .timeout, using: &generator)
            == .giveUp(reason: "step is not retryable"))
    }
}
