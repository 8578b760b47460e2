/// Acknowledgement batching for one consumer channel: which deliveries are still unsettled,
/// and how the acks the application issued since the last flush go on the wire.
///
/// Acks collected between two flushes that form a run at the head of the channel's unsettled
/// deliveries become one basic.ack with `multiple` set (deliveries already settled on their
/// own, by a nack, a reject or an earlier single ack, may sit inside the run: a `multiple`
/// ack only affects deliveries still outstanding). The other acks are sent one by one.
///
/// The state belongs to one channel incarnation: call ``reset()`` when the consumer gets a new
/// channel. This is a pure value: no I/O, no C calls; the connection thread sends the frames
/// ``takeAcks()`` describes.
package struct ConsumerAckBatcher {
    /// The basic.ack frames to send for one flush.
    package struct Acks: Equatable {
        /// Send one basic.ack with `multiple` set for this delivery tag, if not `nil`.
        package var multipleUpTo: UInt64?
        /// Then one basic.ack without `multiple` for each of these tags, in this order.
        package var single: [UInt64]

        package init(multipleUpTo: UInt64? = nil, single: [UInt64] = []) {
            self.multipleUpTo = multipleUpTo
            self.single = single
        }
    }

    /// Delivery tags received and not yet settled, in order (from `head`).
    private var unsettled: [UInt64] = []
    private var head = 0
    /// Tags settled individually that are still in `unsettled`.
    private var settledOutOfOrder: Set<UInt64> = []
    /// Tags the application acknowledged that have not been sent yet.
    private var pendingAcks: Set<UInt64> = []

    package init() {}

    /// Whether acks are waiting for ``takeAcks()``.
    package var hasPendingAcks: Bool { !pendingAcks.isEmpty }

    /// The delivery tags neither acknowledged on the wire nor refused, in delivery order
    /// (acks queued but not flushed yet still count as unsettled).
    package var unsettledTags: [UInt64] {
        unsettled[head...].filter { !settledOutOfOrder.contains($0) }
    }

    /// Records a delivery (tags increase on a channel).
    package mutating func received(_ deliveryTag: UInt64) {
        unsettled.append(deliveryTag)
    }

    /// Queues a single ack issued by the application; it is sent by the next ``takeAcks()``.
    package mutating func queueAck(_ deliveryTag: UInt64) {
        pendingAcks.insert(deliveryTag)
    }

    /// Records a single nack or reject that was sent for `deliveryTag`.
    package mutating func settledIndividually(_ deliveryTag: UInt64) {
        settledOutOfOrder.insert(deliveryTag)
    }

    /// Records an ack or nack with `multiple` set that was sent: every delivery up to and
    /// including `deliveryTag` is settled.
    package mutating func settled(upTo deliveryTag: UInt64) {
        while head < unsettled.count && unsettled[head] <= deliveryTag {
            settledOutOfOrder.remove(unsettled[head])
            head += 1
        }
        compact()
    }

    /// Takes the queued acks and returns the frames that send them, or `nil` if none is queued.
    /// The deliveries they cover count as settled from now on.
    package mutating func takeAcks() -> Acks? {
        guard !pendingAcks.isEmpty else { return nil }
        var acks = Acks()
        while head < unsettled.count {
            let tag = unsettled[head]
            if pendingAcks.remove(tag) != nil {
                acks.multipleUpTo = tag
            } else if settledOutOfOrder.remove(tag) == nil {
                break
            }
            head += 1
        }
        compact()
        acks.single = pendingAcks.sorted()
        settledOutOfOrder.formUnion(pendingAcks)
        pendingAcks = []
        return acks
    }

    /// Forgets everything: the channel these deliveries came on is gone.
    package mutating func reset() {
        unsettled = []
        head = 0
        settledOutOfOrder = []
        pendingAcks = []
    }

    /// Drops the settled prefix of `unsettled` once it is large and most of the array.
    private mutating func compact() {
        if head > 1024 && head * 2 > unsettled.count {
            unsettled.removeFirst(head)
            head = 0
        }
    }
}
