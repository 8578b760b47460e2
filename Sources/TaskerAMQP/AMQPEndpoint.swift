/// One broker node a connection can reach: a host and a port.
///
/// A configuration lists the nodes of one RabbitMQ cluster (``AMQPConfiguration/endpoints``);
/// a connection attempt tries them in turn, and a connection that is lost reconnects starting
/// with the node after the one it lost.
public struct AMQPEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
