/// An error reported by the AMQP client.
///
/// Errors carry an extensible ``Code``, the broker's reply code when the broker closed a
/// channel or the connection, and a human-readable message. ``isRetryable`` tells whether
/// repeating the operation (for instance after the client reconnected) can succeed.
public struct AMQPError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case invalidConfiguration, connectionFailed, connectionClosed, channelClosed
            case nacked, unroutable, timeout, protocolError, consumerCancelled, clientClosed
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The URL or another configuration value is invalid.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The TCP/TLS connection or the AMQP handshake failed.
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection was lost or closed by the broker while the operation was in flight.
        public static let connectionClosed = Code(.connectionClosed)
        /// The broker closed the channel (for example 404 or 406); the client reopened it.
        public static let channelClosed = Code(.channelClosed)
        /// The broker refused a published message with basic.nack.
        public static let nacked = Code(.nacked)
        /// A `mandatory` message could not be routed to any queue (basic.return).
        public static let unroutable = Code(.unroutable)
        /// An operation did not complete in time.
        public static let timeout = Code(.timeout)
        /// The broker or the library reported an unexpected protocol state.
        public static let protocolError = Code(.protocolError)
        /// The broker cancelled a consumer (for example because its queue was deleted).
        public static let consumerCancelled = Code(.consumerCancelled)
        /// The connection was closed by this client; no further operations are possible.
        public static let clientClosed = Code(.clientClosed)

        public var description: String {
            switch base {
            case .invalidConfiguration: "invalidConfiguration"
            case .connectionFailed: "connectionFailed"
            case .connectionClosed: "connectionClosed"
            case .channelClosed: "channelClosed"
            case .nacked: "nacked"
            case .unroutable: "unroutable"
            case .timeout: "timeout"
            case .protocolError: "protocolError"
            case .consumerCancelled: "consumerCancelled"
            case .clientClosed: "clientClosed"
            }
        }
    }

    /// What went wrong.
    public var code: Code
    /// The AMQP reply code sent by the broker (e.g. 312 NO_ROUTE, 404 NOT_FOUND, 406 PRECONDITION_FAILED).
    public var replyCode: Int?
    /// A description of the failure, usually the broker's reply text.
    public var message: String

    public init(code: Code, replyCode: Int? = nil, message: String) {
        self.code = code
        self.replyCode = replyCode
        self.message = message
    }

    /// Whether retrying the same operation can succeed.
    ///
    /// Lost connections, timeouts and broker nacks are retryable (the client reconnects by
    /// itself). An unroutable message, a configuration error or a channel closed because of
    /// a precondition, access or not-found error is not.
    public var isRetryable: Bool {
        switch code {
        case .connectionFailed, .connectionClosed, .timeout, .nacked: true
        case .channelClosed:
            switch replyCode {
            case 403, 404, 405, 406: false
            default: true
            }
        default: false
        }
    }

    public var description: String {
        if let replyCode {
            return "AMQPError(\(code), \(replyCode): \(message))"
        }
        return "AMQPError(\(code): \(message))"
    }
}
