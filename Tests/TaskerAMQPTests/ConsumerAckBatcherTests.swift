import TaskerAMQP
import TaskerTestSupport
import Testing

/// Consumer acknowledgement batching, without a broker.
@Suite("ConsumerAckBatcher (no broker)")
struct ConsumerAckBatcherTests {
    private typealias Acks = ConsumerAckBatcher.Acks

    private func receiving(_ tags: ClosedRange<UInt64>) -> ConsumerAckBatcher {
        var batcher = ConsumerAckBatcher()
        for tag in tags { batcher.received(tag) }
        return batcher
    }

    @Test("nothing queued, nothing to send")
    func empty() {
        var batcher = receiving(1...3)
        #expect(!batcher.hasPendingAcks)
        #expect(batcher.takeAcks() == nil)
        #expect(batcher.unsettledTags == [1, 2, 3])
    }

    @Test("acks in delivery order become one multiple ack")
    func inOrderRun() {
        var batcher = receiving(1...5)
        for tag: UInt64 in [1, 2, 3] { batcher.queueAck(tag) }
        #expect(batcher.hasPendingAcks)
        #expect(batcher.takeAcks() == Acks(multipleUpTo: 3))
        #expect(!batcher.hasPendingAcks)
        #expect(batcher.unsettledTags == [4, 5])
    }

    @Test("acks queued in any order still coalesce when they form the head run")
    func queuedOutOfOrder() {
        var batcher = receiving(1...4)
        for tag: UInt64 in [3, 1, 2] { batcher.queueAck(tag) }
        #expect(batcher.takeAcks() == Acks(multipleUpTo: 3))
        #expect(batcher.unsettledTags == [4])
    }

    @Test("a gap splits the flush: a multiple ack for the head run, single acks after the gap")
    func gap() {
        var batcher = receiving(1...5)
        for tag: UInt64 in [1, 2, 4, 5] { batcher.queueAck(tag) }
        #expect(batcher.takeAcks() == Acks(multipleUpTo: 2, single: [4, 5]))
        #expect(batcher.unsettledTags == [3])
        // Closing the gap later acks only 3: the multiple ack stops before the tags already sent.
        batcher.queueAck(3)
        #expect(batcher.takeAcks() == Acks(multipleUpTo: 3))
        #expect(batcher.unsettledTags.isEmpty)
    }

    @Test("when the oldest delivery is still unsettled every ack goes out on its own")
    func headNotAcked() {
        var batcher = receiving(1...3)
        batcher.queueAck(3)
        batcher.queueAck(2)
        #expect(batcher.takeAcks() == Acks(single: [2, 3]))
        #expect(batcher.unsettledTags == [1])
        batcher.queueAck(1)
        #expect(batcher.takeAcks() == Acks(multipleUpTo: 1))
        #expect(batcher.unsettledTags.isEmpty)
    }

    @Test("a nacked or rejected delivery inside the run does not break it")
    func nackInsideRun() {
        var batcher = receiving(1...4)
        batcher.settledIndividually(2)  // basic.reject sent for 2
        batcher.queueAck(1)
        batcher.queueAck(3)
        #expect(batcher.unsettledTags == [1, 3, 4])
        #expect(batcher.takeAcks() == Acks(multipleUpTo: 3))
        #expect(batcher.unsettledTags == [4])
    }

    @Test("a multiple ack or nack sent by the application settles everything up to its tag")
    func settledUpTo() {
        var batcher = receiving(1...6)
        batcher.settledIndividually(5)
        batcher.settled(upTo: 3)
        #expect(batcher.unsettledTags == [4, 6])
        batcher.queueAck(6)
        #expect(batcher.takeAcks() == Acks(single: [6]))
        batcher.settled(upTo: 6)
        #expect(batcher.unsettledTags.isEmpty)
        #expect(batcher.takeAcks() == nil)
    }

    @Test("the same ack queued twice is sent once")
    func duplicateAck() {
        var batcher = receiving(1...2)
        batcher.queueAck(2)
        batcher.queueAck(2)
        #expect(batcher.takeAcks() == Acks(single: [2]))
        #expect(batcher.takeAcks() == nil)
    }

    @Test("reset forgets a channel incarnation: queued acks and unsettled deliveries")
    func reset() {
        var batcher = receiving(1...3)
        batcher.queueAck(1)
        batcher.reset()
        #expect(!batcher.hasPendingAcks)
        #expect(batcher.takeAcks() == nil)
        #expect(batcher.unsettledTags.isEmpty)
        // The new channel numbers deliveries from 1 again.
        batcher.received(1)
        batcher.queueAck(1)
        #expect(batcher.takeAcks() == Acks(multipleUpTo: 1))
    }

    @Test("long runs stay correct across internal compaction")
    func longRun() {
        var batcher = ConsumerAckBatcher()
        var generator = SplitMix64(seed: 7)
        var next: UInt64 = 1
        var acked: UInt64 = 0
        for _ in 0..<2_000 {
            // A prefetch window of deliveries, then the application acks a few in order.
            while next - acked <= 100 {
                batcher.received(next)
                next += 1
            }
            let count = UInt64.random(in: 1...10, using: &generator)
            for tag in (acked + 1)...(acked + count) { batcher.queueAck(tag) }
            acked += count
            #expect(batcher.takeAcks() == Acks(multipleUpTo: acked))
        }
        #expect(batcher.unsettledTags == Array((acked + 1)..<next))
    }
}
