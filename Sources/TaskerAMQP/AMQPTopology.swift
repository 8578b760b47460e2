/// An exchange to declare.
public struct AMQPExchange: Sendable, Hashable {
    /// The exchange type.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public static let direct = Kind("direct")
        public static let topic = Kind("topic")
        public static let fanout = Kind("fanout")
        public static let headers = Kind("headers")
        public var description: String { rawValue }
    }

    public var name: String
    public var kind: Kind
    public var durable: Bool
    public var autoDelete: Bool
    public var arguments: [String: AMQPFieldValue]

    public init(
        name: String,
        kind: Kind = .direct,
        durable: Bool = true,
        autoDelete: Bool = false,
        arguments: [String: AMQPFieldValue] = [:]
    ) {
        self.name = name
        self.kind = kind
        self.durable = durable
        self.autoDelete = autoDelete
        self.arguments = arguments
    }
}

/// A queue to declare.
///
/// ```swift
/// let queue = AMQPQueue(name: "work", type: .quorum, deadLetterExchange: "dlx", deliveryLimit: 5)
/// ```
public struct AMQPQueue: Sendable, Hashable {
    /// The queue type (`x-queue-type`).
    public struct QueueType: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public static let classic = QueueType("classic")
        public static let quorum = QueueType("quorum")
        public var description: String { rawValue }
    }

    public var name: String
    public var type: QueueType
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    /// Per-queue message TTL (`x-message-ttl`).
    public var messageTTL: Duration?
    /// Maximum number of ready messages (`x-max-length`).
    public var maxLength: Int?
    /// Dead-letter exchange (`x-dead-letter-exchange`); `""` is the default exchange.
    public var deadLetterExchange: String?
    /// Dead-letter routing key (`x-dead-letter-routing-key`).
    public var deadLetterRoutingKey: String?
    /// Delivery limit of a quorum queue (`x-delivery-limit`).
    public var deliveryLimit: Int?
    /// Further arguments, merged last.
    public var arguments: [String: AMQPFieldValue]

    public init(
        name: String,
        type: QueueType = .classic,
        durable: Bool = true,
        exclusive: Bool = false,
        autoDelete: Bool = false,
        messageTTL: Duration? = nil,
        maxLength: Int? = nil,
        deadLetterExchange: String? = nil,
        deadLetterRoutingKey: String? = nil,
        deliveryLimit: Int? = nil,
        arguments: [String: AMQPFieldValue] = [:]
    ) {
        self.name = name
        self.type = type
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.messageTTL = messageTTL
        self.maxLength = maxLength
        self.deadLetterExchange = deadLetterExchange
        self.deadLetterRoutingKey = deadLetterRoutingKey
        self.deliveryLimit = deliveryLimit
        self.arguments = arguments
    }

    /// The `x-` arguments sent with queue.declare.
    var declareArguments: [String: AMQPFieldValue] {
        var args: [String: AMQPFieldValue] = [:]
        if type != .classic { args["x-queue-type"] = .string(type.rawValue) }
        if let messageTTL { args["x-message-ttl"] = .int(Int64(messageTTL.seconds * 1000)) }
        if let maxLength { args["x-max-length"] = .int(Int64(maxLength)) }
        if let deadLetterExchange { args["x-dead-letter-exchange"] = .string(deadLetterExchange) }
        if let deadLetterRoutingKey { args["x-dead-letter-routing-key"] = .string(deadLetterRoutingKey) }
        if let deliveryLimit { args["x-delivery-limit"] = .int(Int64(deliveryLimit)) }
        args.merge(arguments) { _, new in new }
        return args
    }
}

/// A binding of a queue to an exchange.
public struct AMQPBinding: Sendable, Hashable {
    public var queue: String
    public var exchange: String
    public var routingKey: String
    public var arguments: [String: AMQPFieldValue]

    public init(queue: String, exchange: String, routingKey: String = "", arguments: [String: AMQPFieldValue] = [:]) {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
        self.arguments = arguments
    }
}

/// Counts returned by queue.declare.
public struct AMQPQueueInfo: Sendable, Hashable {
    public var name: String
    /// Ready messages (not counting unacknowledged ones).
    public var messageCount: Int
    public var consumerCount: Int
}
