import TaskerWorkerApp

/// `notify_customer`: tells the customer where the parcel is (here: only composes the message).
public struct NotifyCustomer: TypedStepHandler {
    public struct Parents: Decodable, Sendable {
        var shipOrder: Shipment
    }

    public struct Config: Decodable, Sendable {
        var channel: String
    }

    public init() {}

    public func handle(_ step: TypedStep<Order, Parents, Config>) async throws -> Notification {
        let shipment = step.parents.shipOrder
        return Notification(
            channel: step.config.channel,
            recipient: step.context.customerEmail,
            message: "Order \(step.context.orderId) ships with \(shipment.carrier), tracking \(shipment.trackingNumber)"
        )
    }
}
