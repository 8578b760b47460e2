import TaskerWorkerApp

/// `validate_order`: prices the order from `handler_config.prices_cents`; an unknown SKU or a
/// quantity over `max_quantity` fails the task permanently.
public struct ValidateOrder: TypedStepHandler {
    public struct Config: Decodable, Sendable {
        var maxQuantity: Int
        var pricesCents: [String: Int]
    }

    public init() {}

    public func handle(_ step: TypedStep<Order, Ignored, Config>) async throws -> ValidatedOrder {
        let order = step.context
        var total = 0
        for item in order.items {
            guard let price = step.config.pricesCents[item.sku] else {
                throw StepFailure.permanent("unknown sku '\(item.sku)'")
            }
            guard (1...step.config.maxQuantity).contains(item.quantity) else {
                throw StepFailure.permanent("quantity \(item.quantity) of '\(item.sku)' is not within 1...\(step.config.maxQuantity)")
            }
            total += price * item.quantity
        }
        step.logger.info("order validated", metadata: ["order.id": "\(order.orderId)", "order.total_cents": "\(total)"])
        return ValidatedOrder(orderId: order.orderId, totalCents: total, itemCount: order.items.reduce(0) { $0 + $1.quantity })
    }
}
