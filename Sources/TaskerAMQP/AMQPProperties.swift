/// Message properties (the basic content header).
public struct AMQPProperties: Sendable, Hashable {
    public var contentType: String?
    public var contentEncoding: String?
    public var messageID: String?
    public var correlationID: String?
    public var replyTo: String?
    public var type: String?
    public var appID: String?
    /// Seconds since 1970.
    public var timestamp: UInt64?
    /// Persistent delivery mode (2); `false` is transient (1).
    public var persistent: Bool
    /// Per-message TTL in milliseconds, as a string (AMQP `expiration`).
    public var expiration: String?
    public var priority: UInt8?
    public var headers: [String: AMQPFieldValue]

    public init(
        contentType: String? = nil,
        contentEncoding: String? = nil,
        messageID: String? = nil,
        correlationID: String? = nil,
        replyTo: String? = nil,
        type: String? = nil,
        appID: String? = nil,
        timestamp: UInt64? = nil,
        persistent: Bool = true,
        expiration: String? = nil,
        priority: UInt8? = nil,
        headers: [String: AMQPFieldValue] = [:]
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.messageID = messageID
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.type = type
        self.appID = appID
        self.timestamp = timestamp
        self.persistent = persistent
        self.expiration = expiration
        self.priority = priority
        self.headers = headers
    }

    /// The headers whose values are strings.
    public var stringHeaders: [String: String] {
        headers.compactMapValues(\.stringValue)
    }
}

/// A message to publish with ``AMQPConnection/publish(contentsOf:)``.
public struct AMQPMessage: Sendable {
    public var body: [UInt8]
    public var exchange: String
    public var routingKey: String
    public var properties: AMQPProperties
    /// Fail the publish with ``AMQPError/Code-swift.struct/unroutable`` if no queue receives it.
    public var mandatory: Bool

    public init(
        body: [UInt8],
        exchange: String = "",
        routingKey: String,
        properties: AMQPProperties = .init(),
        mandatory: Bool = false
    ) {
        self.body = body
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.mandatory = mandatory
    }
}
