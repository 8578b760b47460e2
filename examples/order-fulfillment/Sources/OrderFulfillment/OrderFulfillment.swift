import Foundation
import TaskerWorkerApp

/// The order-fulfillment application: its handlers and its templates.
public enum OrderFulfillment {
    /// Every handler `orders/order_fulfillment` needs, by handler name.
    public static func handlers(payments: PaymentsClient) -> HandlerRegistry {
        var handlers = HandlerRegistry()
        handlers.register("validate_order", ValidateOrder())
        handlers.register("reserve_inventory", ReserveInventory())
        handlers.register("authorize_payment", AuthorizePayment(payments: payments))
        handlers.register("ship_order", ShipOrder())
        handlers.register("notify_customer", NotifyCustomer())
        return handlers
    }

    /// The directory of the application's templates, shipped with it as a resource.
    public static var templates: URL {
        guard let url = Bundle.module.url(forResource: "templates", withExtension: nil) else {
            preconditionFailure("the templates resource is missing from the bundle")
        }
        return url
    }
}
