import TaskerWorkerApp

/// `reserve_inventory`: reserves the validated items in `handler_config.warehouse`.
public struct ReserveInventory: TypedStepHandler {
    public struct Parents: Decodable, Sendable {
        var validateOrder: ValidatedOrder
    }

    public struct Config: Decodable, Sendable {
        var warehouse: String
    }

    public init() {}

    public func handle(_ step: TypedStep<Ignored, Parents, Config>) async throws -> Reservation {
        let order = step.parents.validateOrder
        step.logger.info("inventory reserved", metadata: ["order.id": "\(order.orderId)", "warehouse": "\(step.config.warehouse)"])
        return Reservation(reservationId: "res-\(order.orderId)-\(order.itemCount)", warehouse: step.config.warehouse)
    }
}
