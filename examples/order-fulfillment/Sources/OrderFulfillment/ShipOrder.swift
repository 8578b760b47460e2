import TaskerWorkerApp

/// `ship_order`: books the shipment once stock is reserved and payment authorized (its two
/// parents, read as typed results).
public struct ShipOrder: TypedStepHandler {
    public struct Parents: Decodable, Sendable {
        var reserveInventory: Reservation
        var authorizePayment: Authorization
    }

    public struct Config: Decodable, Sendable {
        var carrier: String
        var serviceLevel: String
    }

    public init() {}

    public func handle(_ step: TypedStep<Order, Parents, Config>) async throws -> Shipment {
        let reservation = step.parents.reserveInventory
        let tracking = "\(step.config.carrier)-\(step.context.orderId)-\(reservation.warehouse)"
        step.logger.info("shipment booked", metadata: ["order.id": "\(step.context.orderId)", "tracking": "\(tracking)"])
        return Shipment(trackingNumber: tracking, carrier: step.config.carrier, estimatedDays: step.config.serviceLevel == "express" ? 1 : 3)
    }
}
