/// The task context of `orders/order_fulfillment`: what the shop submits.
public struct Order: Codable, Sendable {
    public struct Item: Codable, Sendable {
        public var sku: String
        public var quantity: Int
    }

    public var orderId: String
    public var customerEmail: String
    public var paymentToken: String
    public var items: [Item]
}

/// `validate_order`'s results.
public struct ValidatedOrder: Codable, Sendable {
    public var orderId: String
    public var totalCents: Int
    public var itemCount: Int
}

/// `reserve_inventory`'s results.
public struct Reservation: Codable, Sendable {
    public var reservationId: String
    public var warehouse: String
}

/// `authorize_payment`'s results.
public struct Authorization: Codable, Sendable {
    public var authorizationId: String
    public var amountCents: Int
    public var currency: String
}

/// `ship_order`'s results.
public struct Shipment: Codable, Sendable {
    public var trackingNumber: String
    public var carrier: String
    public var estimatedDays: Int
}

/// `notify_customer`'s results.
public struct Notification: Codable, Sendable {
    public var channel: String
    public var recipient: String
    public var message: String
}
