import TaskerAMQP
import TaskerTestSupport
import Testing

/// Publisher-confirm bookkeeping, without a broker.
@Suite("PublishConfirms (no broker)")
struct PublishConfirmsTests {
    /// "tag:target:outcome" for each resolution, in the order returned.
    private func summary(_ resolutions: [PublishConfirms<String>.Resolution]) -> [String] {
        resolutions.map { resolution in
            let outcome =
                switch resolution.outcome {
                case .confirmed: "confirmed"
                case .nacked: "nacked"
                case .returned(let error): "returned(\(error.code))"
                }
            return "\(resolution.deliveryTag):\(resolution.target):\(outcome)"
        }
    }

    private func publishing(_ count: Int) -> PublishConfirms<String> {
        var confirms = PublishConfirms<String>()
        for index in 1...count { confirms.published("m\(index)") }
        return confirms
    }

    @Test("publishes are numbered from 1 like the broker's delivery tags")
    func numbering() {
        var confirms = PublishConfirms<String>()
        #expect(confirms.isEmpty)
        #expect(confirms.nextDeliveryTag == 1)
        #expect(confirms.published("a") == 1)
        #expect(confirms.published("b") == 2)
        #expect(confirms.published("c") == 3)
        #expect(confirms.nextDeliveryTag == 4)
        #expect(confirms.count == 3)
    }

    @Test("a single ack resolves only its own publish")
    func singleAck() {
        var confirms = publishing(3)
        #expect(summary(confirms.acknowledged(deliveryTag: 2, multiple: false)) == ["2:m2:confirmed"])
        #expect(confirms.count == 2)
        #expect(summary(confirms.acknowledged(deliveryTag: 2, multiple: false)).isEmpty)  // duplicate
    }

    @Test("an ack with multiple=true resolves every earlier unconfirmed tag, in order")
    func multipleAck() {
        var confirms = publishing(5)
        #expect(summary(confirms.acknowledged(deliveryTag: 3, multiple: true)) == ["1:m1:confirmed", "2:m2:confirmed", "3:m3:confirmed"])
        #expect(confirms.count == 2)
        #expect(summary(confirms.acknowledged(deliveryTag: 5, multiple: true)) == ["4:m4:confirmed", "5:m5:confirmed"])
        #expect(confirms.isEmpty)
    }

    @Test("a multiple ack skips tags already confirmed one by one (out of order)")
    func multipleAckAfterOutOfOrderSingles() {
        var confirms = publishing(6)
        #expect(summary(confirms.acknowledged(deliveryTag: 4, multiple: false)) == ["4:m4:confirmed"])
        #expect(summary(confirms.acknowledged(deliveryTag: 2, multiple: false)) == ["2:m2:confirmed"])
        #expect(summary(confirms.acknowledged(deliveryTag: 5, multiple: true)) == ["1:m1:confirmed", "3:m3:confirmed", "5:m5:confirmed"])
        #expect(confirms.count == 1)
        #expect(summary(confirms.acknowledged(deliveryTag: 5, multiple: true)).isEmpty)  // nothing left up to 5
        #expect(summary(confirms.acknowledged(deliveryTag: 6, multiple: false)) == ["6:m6:confirmed"])
    }

    @Test("single acks in any order each resolve exactly their publish")
    func outOfOrderSingles() {
        var confirms = publishing(3)
        #expect(summary(confirms.acknowledged(deliveryTag: 3, multiple: false)) == ["3:m3:confirmed"])
        #expect(summary(confirms.acknowledged(deliveryTag: 1, multiple: false)) == ["1:m1:confirmed"])
        #expect(summary(confirms.acknowledged(deliveryTag: 2, multiple: false)) == ["2:m2:confirmed"])
        #expect(confirms.isEmpty)
        // A publish after that is resolved by a multiple ack of its own tag only.
        #expect(confirms.published("m4") == 4)
        #expect(summary(confirms.acknowledged(deliveryTag: 4, multiple: true)) == ["4:m4:confirmed"])
    }

    @Test("nacks, single and multiple, resolve as nacked; acks after them still work")
    func nacks() {
        var confirms = publishing(5)
        #expect(summary(confirms.negativelyAcknowledged(deliveryTag: 2, multiple: false)) == ["2:m2:nacked"])
        #expect(summary(confirms.negativelyAcknowledged(deliveryTag: 3, multiple: true)) == ["1:m1:nacked", "3:m3:nacked"])
        #expect(summary(confirms.acknowledged(deliveryTag: 5, multiple: true)) == ["4:m4:confirmed", "5:m5:confirmed"])
        #expect(confirms.isEmpty)
    }

    @Test("a basic.return turns the following ack (or nack) into an unroutable failure")
    func returned() {
        var confirms = publishing(3)
        let unroutable = AMQPError(code: .unroutable, replyCode: 312, message: "NO_ROUTE")
        let matched = [2, 3, 9].map { confirms.returned(deliveryTag: $0, error: unroutable) }
        #expect(matched == [true, true, false])  // 9 was never published
        #expect(
            summary(confirms.acknowledged(deliveryTag: 2, multiple: true)) == ["1:m1:confirmed", "2:m2:returned(unroutable)"]
        )
        #expect(summary(confirms.negativelyAcknowledged(deliveryTag: 3, multiple: false)) == ["3:m3:returned(unroutable)"])
        let late = confirms.returned(deliveryTag: 2, error: unroutable)
        #expect(!late)  // already resolved
    }

    @Test("a multiple ack beyond the last publish does not swallow later publishes")
    func multipleAckBeyondLastPublish() {
        var confirms = publishing(2)
        #expect(summary(confirms.acknowledged(deliveryTag: 100, multiple: true)) == ["1:m1:confirmed", "2:m2:confirmed"])
        confirms.published("m3")
        confirms.published("m4")
        #expect(summary(confirms.acknowledged(deliveryTag: 4, multiple: true)) == ["3:m3:confirmed", "4:m4:confirmed"])
    }

    @Test("failAll hands back every in-flight publish in order; a reopened channel numbers from 1")
    func failAllOnConnectionLoss() {
        var confirms = publishing(4)
        _ = confirms.acknowledged(deliveryTag: 2, multiple: false)
        #expect(confirms.failAll() == ["m1", "m3", "m4"])
        #expect(confirms.isEmpty)
        // A late confirm for the old channel resolves nothing.
        #expect(summary(confirms.acknowledged(deliveryTag: 4, multiple: true)).isEmpty)
        #expect(confirms.failAll().isEmpty)
        confirms.restartNumbering()
        #expect(confirms.nextDeliveryTag == 1)
        #expect(confirms.published("n1") == 1)
        #expect(summary(confirms.acknowledged(deliveryTag: 1, multiple: true)) == ["1:n1:confirmed"])
    }

    @Test("pipelined publishes confirmed at random boundaries resolve each exactly once")
    func pipelined() {
        let total = 10_000
        var generator = SplitMix64(seed: 42)
        var confirms = PublishConfirms<Int>()
        var resolved = Set<Int>()
        var duplicates = 0
        var published = 0
        while resolved.count < total {
            // Publish a few more; then the broker confirms one tag, or every tag up to one.
            for _ in 0..<min(Int.random(in: 0...50, using: &generator), total - published) {
                published += 1
                confirms.published(published)
            }
            guard published > 0 else { continue }
            let multiple = published == total || Bool.random(using: &generator)
            let tag = published == total ? UInt64(total) : UInt64.random(in: 1...UInt64(published), using: &generator)
            let targets = confirms.acknowledged(deliveryTag: tag, multiple: multiple).map(\.target)
            #expect(targets == targets.sorted())
            if multiple { #expect(targets.allSatisfy { $0 <= Int(tag) }) }
            for target in targets where !resolved.insert(target).inserted { duplicates += 1 }
        }
        #expect(duplicates == 0)
        #expect(resolved == Set(1...total))
        #expect(confirms.isEmpty)
    }
}
