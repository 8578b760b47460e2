import TaskerAMQP
import Testing

/// Consumer channel numbers and generations, without a broker.
@Suite("ConsumerChannels (no broker)")
struct ConsumerChannelsTests {
    @Test("channel numbers start after topology and publishing and are reused once released")
    func allocation() {
        var channels = ConsumerChannels<String>()
        #expect(channels.allocate() == 3)
        #expect(channels.allocate() == 4)
        #expect(channels.allocate() == 5)
        channels.release(4)
        channels.release(3)
        #expect(channels.allocate() == 3)  // the most recently released first
        #expect(channels.allocate() == 4)
        #expect(channels.allocate() == 6)
    }

    @Test("each attachment gets a new generation; only the current one owns the channel")
    func generations() {
        var channels = ConsumerChannels<String>()
        let a = channels.allocate()
        let b = channels.allocate()
        let first = channels.attach("a", to: a)
        let second = channels.attach("b", to: b)
        #expect(second > first)
        #expect(channels.owner(of: a) == "a")
        #expect(channels.owner(of: a, generation: first) == "a")
        #expect(channels.owner(of: a, generation: second) == nil)
        #expect(channels.isCurrent(b, generation: second))
        #expect(channels.attachedChannels == [a, b])
    }

    @Test("an ack for a delivery from a replaced channel is stale, even on the same number")
    func generationChangeMidFlight() {
        var channels = ConsumerChannels<String>()
        let channel = channels.allocate()
        let old = channels.attach("worker", to: channel)
        // A delivery is in the application's hands when the broker closes the channel...
        #expect(channels.detach(channel) == "worker")
        channels.release(channel)
        #expect(channels.owner(of: channel, generation: old) == nil)
        // ...and the consumer is re-registered on the same channel number.
        let reopened = channels.allocate()
        #expect(reopened == channel)
        let new = channels.attach("worker", to: reopened)
        #expect(new != old)
        #expect(channels.owner(of: channel, generation: old) == nil)
        #expect(!channels.isCurrent(channel, generation: old))
        #expect(channels.owner(of: channel, generation: new) == "worker")
    }

    @Test("a reconnect forgets every channel, restarts numbering and keeps generations growing")
    func resetOnReconnect() {
        var channels = ConsumerChannels<String>()
        let a = channels.allocate()
        _ = channels.allocate()
        let spare = channels.allocate()
        channels.release(spare)
        let before = channels.attach("a", to: a)
        channels.reset()
        #expect(channels.attachedChannels.isEmpty)
        #expect(channels.owner(of: a) == nil)
        #expect(channels.allocate() == 3)  // numbering and the free list start over
        #expect(channels.allocate() == 4)
        let after = channels.attach("a", to: 3)
        #expect(after > before)
        #expect(channels.owner(of: 3, generation: before) == nil)
        #expect(channels.owner(of: 3, generation: after) == "a")
    }

    @Test("detach does not release the number")
    func detachKeepsNumber() {
        var channels = ConsumerChannels<String>()
        let channel = channels.allocate()
        let generation = channels.attach("a", to: channel)
        #expect(channels.detach(channel) == "a")
        #expect(channels.detach(channel) == nil)
        #expect(channels.owner(of: channel, generation: generation) == nil)
        #expect(channels.allocate() == channel + 1)
    }
}
