/// Publisher-confirm bookkeeping for a channel in confirm mode: which delivery tag belongs to
/// which publish, and what each basic.ack, basic.nack and basic.return means for it.
///
/// RabbitMQ numbers the messages published on a confirm-mode channel 1, 2, 3, ... and confirms
/// each number with basic.ack or basic.nack; with `multiple` set, a confirm also covers every
/// earlier number not confirmed yet. A basic.return (a `mandatory` message no queue took)
/// arrives before the ack of the same message and turns that ack into an `.unroutable` failure.
///
/// This is a pure value: it does no I/O and calls no C. The connection thread records each
/// publish it handed to librabbitmq, feeds in the confirms it reads, and completes the
/// returned ``Resolution``s. `Target` is whatever the caller needs to complete a publish (a
/// continuation, a slot in a batch); tests use plain values.
package struct PublishConfirms<Target> {
    /// What became of a publish.
    package enum Outcome {
        /// basic.ack: the broker took responsibility for the message.
        case confirmed
        /// basic.nack: the broker refused the message.
        case nacked
        /// basic.return before the confirm: the `mandatory` message was not routed.
        case returned(AMQPError)
    }

    /// A publish whose outcome is now known.
    package struct Resolution {
        package var deliveryTag: UInt64
        package var target: Target
        package var outcome: Outcome
    }

    private struct Entry {
        var target: Target
        var returned: AMQPError?
    }

    /// The delivery tag the broker will give the next publish on the channel.
    package private(set) var nextDeliveryTag: UInt64 = 1
    /// Every tag below this one is resolved; a `multiple` confirm starts here.
    private var oldestUnconfirmed: UInt64 = 1
    private var pending: [UInt64: Entry] = [:]

    package init() {}

    /// How many publishes await their confirm.
    package var count: Int { pending.count }

    /// Whether no publish awaits its confirm.
    package var isEmpty: Bool { pending.isEmpty }

    /// Records a publish that was handed to the broker; returns its delivery tag.
    @discardableResult
    package mutating func published(_ target: Target) -> UInt64 {
        let tag = nextDeliveryTag
        pending[tag] = Entry(target: target)
        nextDeliveryTag += 1
        return tag
    }

    /// Records a basic.return for the publish with `deliveryTag`; its confirm then resolves it
    /// as ``Outcome/returned(_:)``. Returns `false` if no such publish is pending.
    package mutating func returned(deliveryTag: UInt64, error: AMQPError) -> Bool {
        guard pending[deliveryTag] != nil else { return false }
        pending[deliveryTag]?.returned = error
        return true
    }

    /// Applies a basic.ack; returns the publishes it resolves, in delivery-tag order.
    package mutating func acknowledged(deliveryTag: UInt64, multiple: Bool) -> [Resolution] {
        confirm(deliveryTag, multiple: multiple, ack: true)
    }

    /// Applies a basic.nack; returns the publishes it resolves, in delivery-tag order.
    package mutating func negativelyAcknowledged(deliveryTag: UInt64, multiple: Bool) -> [Resolution] {
        confirm(deliveryTag, multiple: multiple, ack: false)
    }

    /// Removes every pending publish (the channel or the connection is gone, so no confirm will
    /// come) and returns their targets in delivery-tag order, for the caller to fail.
    package mutating func failAll() -> [Target] {
        let failed = pending.sorted { $0.key < $1.key }.map(\.value.target)
        pending = [:]
        oldestUnconfirmed = nextDeliveryTag
        return failed
    }

    /// Starts numbering at 1 again, as the broker does on a channel that was just put in
    /// confirm mode. Call ``failAll()`` first: nothing may be pending.
    package mutating func restartNumbering() {
        assert(pending.isEmpty, "publisher confirms still pending when the confirm channel was reopened")
        nextDeliveryTag = 1
        oldestUnconfirmed = 1
    }

    private mutating func confirm(_ tag: UInt64, multiple: Bool, ack: Bool) -> [Resolution] {
        var resolved: [Resolution] = []
        if multiple {
            // No tag beyond the last publish can be pending (a broker never confirms those).
            let last = min(tag, nextDeliveryTag - 1)
            var seq = oldestUnconfirmed
            while seq <= last {
                resolve(seq, ack: ack, into: &resolved)
                seq += 1
            }
            oldestUnconfirmed = max(oldestUnconfirmed, last + 1)
        } else {
            resolve(tag, ack: ack, into: &resolved)
            while oldestUnconfirmed < nextDeliveryTag && pending[oldestUnconfirmed] == nil { oldestUnconfirmed += 1 }
        }
        return resolved
    }

    private mutating func resolve(_ tag: UInt64, ack: Bool, into resolved: inout [Resolution]) {
        guard let entry = pending.removeValue(forKey: tag) else { return }
        let outcome: Outcome
        if let returned = entry.returned {
            outcome = .returned(returned)
        } else {
            outcome = ack ? .confirmed : .nacked
        }
        resolved.append(Resolution(deliveryTag: tag, target: entry.target, outcome: outcome))
    }
}
