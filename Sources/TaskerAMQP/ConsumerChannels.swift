/// Channel numbers and channel generations of the consumers on one connection.
///
/// Every consumer gets its own channel, numbered from `firstChannel` up; numbers of closed
/// channels are reused. Each time a consumer is attached to a channel, that channel incarnation
/// gets a new generation, unique for the life of the connection object (generations keep
/// growing across reconnects). A delivery remembers the channel and generation it came on, so
/// an ack for a delivery from a channel that was since replaced, by a reconnect or a broker
/// channel error, is recognised as stale (``owner(of:generation:)`` returns `nil`) and dropped:
/// the broker redelivers that message.
///
/// This is a pure value: no I/O, no C calls. `Owner` is the consumer record of the connection
/// thread; tests use plain values.
package struct ConsumerChannels<Owner> {
    private struct Attachment {
        var owner: Owner
        var generation: UInt64
    }

    /// The lowest channel number handed out (1 and 2 are topology and publishing).
    package let firstChannel: UInt16
    private var attached: [UInt16: Attachment] = [:]
    private var free: [UInt16] = []
    private var next: UInt16
    private var nextGeneration: UInt64 = 1

    package init(firstChannel: UInt16 = 3) {
        self.firstChannel = firstChannel
        self.next = firstChannel
    }

    /// A channel number to open: the most recently released one, or a new one.
    package mutating func allocate() -> UInt16 {
        if let channel = free.popLast() { return channel }
        defer { next += 1 }
        return next
    }

    /// Makes `channel` available to ``allocate()`` again (it was closed, or never opened).
    package mutating func release(_ channel: UInt16) {
        free.append(channel)
    }

    /// Attaches `owner` to `channel` (now open and consuming) and returns the new generation.
    package mutating func attach(_ owner: Owner, to channel: UInt16) -> UInt64 {
        let generation = nextGeneration
        nextGeneration += 1
        attached[channel] = Attachment(owner: owner, generation: generation)
        return generation
    }

    /// Detaches whatever is attached to `channel` and returns it. The number is not released.
    @discardableResult
    package mutating func detach(_ channel: UInt16) -> Owner? {
        attached.removeValue(forKey: channel)?.owner
    }

    /// The owner attached to `channel` now, whatever its generation (for frames read from it).
    package func owner(of channel: UInt16) -> Owner? {
        attached[channel]?.owner
    }

    /// The owner attached to `channel` if it is still the incarnation `generation`; `nil` for a
    /// stale reference.
    package func owner(of channel: UInt16, generation: UInt64) -> Owner? {
        guard let attachment = attached[channel], attachment.generation == generation else { return nil }
        return attachment.owner
    }

    /// Whether `channel` is still the incarnation `generation`.
    package func isCurrent(_ channel: UInt16, generation: UInt64) -> Bool {
        attached[channel]?.generation == generation
    }

    /// The channels with an owner attached, in ascending order.
    package var attachedChannels: [UInt16] { attached.keys.sorted() }

    /// Forgets every channel: the connection is gone. Numbering starts again at
    /// `firstChannel`; generations keep growing, so references from before stay stale.
    package mutating func reset() {
        attached = [:]
        free = []
        next = firstChannel
    }
}
