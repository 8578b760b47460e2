internal import Synchronization
internal import TaskerAMQP

/// A delivery and the reports its body carries: one, or several for a `step.results` body.
///
/// Each report is recorded on its own, in its task's lane (perhaps in another batch than the
/// others), and the delivery is settled once all of them are: acknowledged when every report
/// was recorded (or ignored as a duplicate), returned to the queue when one was not. On
/// redelivery the reports recorded the first time are duplicates, and ignored.
final class SharedDelivery: Sendable {
    let delivery: AMQPDelivery
    private let unsettled: Mutex<(reports: Int, requeue: Bool)>

    init(_ delivery: AMQPDelivery, reports: Int) {
        self.delivery = delivery
        self.unsettled = Mutex((max(1, reports), false))
    }

    /// One report was recorded or ignored.
    func ack() throws { try settle(requeue: false) }

    /// One report was not recorded: the delivery goes back to the queue once the others are settled.
    func requeue() throws { try settle(requeue: true) }

    private func settle(requeue: Bool) throws {
        let (last, requeueing) = unsettled.withLock { unsettled in
            unsettled.reports -= 1
            unsettled.requeue = unsettled.requeue || requeue
            return (unsettled.reports == 0, unsettled.requeue)
        }
        guard last else { return }
        if requeueing { try delivery.nack(requeue: true) } else { try delivery.ack() }
    }
}
