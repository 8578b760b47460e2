import Foundation
import Glibc

/// How to reach and talk to a RabbitMQ broker.
///
/// ```swift
/// var configuration = try AMQPConfiguration(url: "amqp://tasker:tasker@127.0.0.1:5673/%2f")
/// configuration.heartbeat = .seconds(5)
/// configuration.connectionName = "tasker-worker"
/// ```
public struct AMQPConfiguration: Sendable {
    /// TLS settings, used when the URL scheme is `amqps`.
    public struct TLS: Sendable {
        /// Verify the broker's certificate chain.
        public var verifyPeer: Bool
        /// Verify that the certificate matches the host name.
        public var verifyHostname: Bool
        /// A PEM file with the CA certificates to trust; `nil` uses the library default.
        public var caCertificatePath: String?

        public init(verifyPeer: Bool = true, verifyHostname: Bool = true, caCertificatePath: String? = nil) {
            self.verifyPeer = verifyPeer
            self.verifyHostname = verifyHostname
            self.caCertificatePath = caCertificatePath
        }
    }

    /// Reconnection policy: exponential backoff with jitter.
    public struct Reconnect: Sendable {
        /// Reconnect after the connection is lost. When `false`, a lost connection closes the client.
        public var enabled: Bool
        /// Delay before the first reconnect attempt.
        public var initialDelay: Duration
        /// Upper bound of the delay between attempts.
        public var maxDelay: Duration
        /// Factor applied to the delay after each failed attempt.
        public var multiplier: Double
        /// Fraction of the delay that is randomised (0 = none, 1 = anywhere between 0 and the delay).
        public var jitter: Double

        public init(
            enabled: Bool = true,
            initialDelay: Duration = .milliseconds(100),
            maxDelay: Duration = .seconds(10),
            multiplier: Double = 2,
            jitter: Double = 0.5
        ) {
            self.enabled = enabled
            self.initialDelay = initialDelay
            self.maxDelay = maxDelay
            self.multiplier = multiplier
            self.jitter = jitter
        }

        /// The delay before reconnect attempt number `attempt` (0-based): `initialDelay * multiplier^attempt`,
        /// capped at `maxDelay`, minus up to `jitter` of it (`random` is uniform in 0...1).
        public func delay(attempt: Int, random: Double = Double.random(in: 0...1)) -> Duration {
            let base = initialDelay.seconds * pow(multiplier, Double(min(attempt, 30)))
            let capped = min(base, maxDelay.seconds)
            let jittered = capped * (1 - jitter * random)
            return .milliseconds(Int64(jittered * 1000))
        }
    }

    /// Broker host name or address.
    public var host: String
    /// Broker port (5672 for `amqp`, 5671 for `amqps` by default).
    public var port: Int
    /// Other nodes of the same RabbitMQ cluster, tried after `host:port` (same credentials,
    /// virtual host and TLS settings). Empty: only `host:port`.
    public var failoverEndpoints: [AMQPEndpoint] = []
    /// User name (PLAIN authentication).
    public var username: String
    /// Password (PLAIN authentication).
    public var password: String
    /// Virtual host.
    public var virtualHost: String
    /// TLS settings; `nil` for a plain TCP connection.
    public var tls: TLS?
    /// Heartbeat interval negotiated with the broker; `.zero` disables heartbeats.
    public var heartbeat: Duration
    /// Name shown in the broker's connection list.
    public var connectionName: String?
    /// Timeout of the TCP connect plus the AMQP handshake.
    public var connectTimeout: Duration
    /// Timeout of a synchronous AMQP method (declare, bind, consume, ...).
    public var rpcTimeout: Duration
    /// How long a graceful close waits for outstanding publisher confirms.
    public var closeTimeout: Duration
    /// Reconnection policy.
    public var reconnect: Reconnect
    /// Maximum frame size proposed to the broker.
    public var frameMax: Int
    /// How long ``AMQPConnection/withConnection(configuration:logger:isolation:_:)`` keeps
    /// retrying the first connection (with the ``reconnect`` backoff) before it gives up;
    /// `nil` or zero: the first failure is thrown at once. Services set it, so one started
    /// during a broker outage waits for the broker instead of crash-looping.
    public var startupTimeout: Duration? = nil
    /// Where every connection opened with this configuration reports whether it is up and how
    /// many consumers it runs (readiness probes, docs/operations.md); `nil`: nowhere.
    public var monitor: AMQPConnectionMonitor? = nil

    public init(
        host: String = "127.0.0.1",
        port: Int = 5672,
        username: String = "guest",
        password: String = "guest",
        virtualHost: String = "/",
        tls: TLS? = nil,
        heartbeat: Duration = .seconds(10),
        connectionName: String? = nil,
        connectTimeout: Duration = .seconds(10),
        rpcTimeout: Duration = .seconds(30),
        closeTimeout: Duration = .seconds(5),
        reconnect: Reconnect = .init(),
        frameMax: Int = 131_072
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.virtualHost = virtualHost
        self.tls = tls
        self.heartbeat = heartbeat
        self.connectionName = connectionName
        self.connectTimeout = connectTimeout
        self.rpcTimeout = rpcTimeout
        self.closeTimeout = closeTimeout
        self.reconnect = reconnect
        self.frameMax = frameMax
    }

    /// Parses `amqp://user:pass@host:port/vhost` (or `amqps://` for TLS), or several such URLs
    /// separated by commas: the nodes of one cluster, tried in that order (``endpoints``).
    ///
    /// The virtual host is percent-decoded (`%2f` is `/`); an empty path means `/`. The URLs of
    /// a list must agree on the scheme, the virtual host and the credentials (a URL without
    /// credentials takes the first one's); a comma inside a password is written `%2C`.
    public init(url: String, connectionName: String? = nil) throws {
        let urls = url.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard urls.count > 1 else {
            try self.init(singleURL: url, connectionName: connectionName)
            return
        }
        try self.init(singleURL: urls[0], connectionName: connectionName)
        for (index, other) in urls.enumerated().dropFirst() {
            var node = try AMQPConfiguration(singleURL: other)
            if !other.contains("@") {
                node.username = username
                node.password = password
            }
            guard (node.tls != nil) == (tls != nil), node.virtualHost == virtualHost, node.username == username,
                node.password == password
            else {
                throw AMQPError(
                    code: .invalidConfiguration,
                    message: "AMQP URL \(index + 1) of \(urls.count) differs from the first in its scheme, virtual host or credentials")
            }
            failoverEndpoints.append(AMQPEndpoint(host: node.host, port: node.port))
        }
    }

    private init(singleURL url: String, connectionName: String? = nil) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "amqp" || scheme == "amqps"
        else {
            throw AMQPError(code: .invalidConfiguration, message: "not an amqp:// or amqps:// URL")
        }
        let isTLS = scheme == "amqps"
        var path = components.percentEncodedPath
        if path.hasPrefix("/") { path.removeFirst() }
        let vhost = path.isEmpty ? "/" : (path.removingPercentEncoding ?? path)
        self.init(
            // An IPv6 address comes in brackets (`[::1]`); the socket wants it without them.
            host: components.host.flatMap { $0.isEmpty ? nil : $0.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) } ?? "localhost",
            port: components.port ?? (isTLS ? 5671 : 5672),
            username: components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "guest",
            password: components.percentEncodedPassword.flatMap { $0.removingPercentEncoding } ?? "guest",
            virtualHost: vhost,
            tls: isTLS ? TLS() : nil,
            connectionName: connectionName
        )
    }
}

extension AMQPConfiguration {
    /// `host:port`, then the failover nodes: the order a connection attempt tries them in.
    public var endpoints: [AMQPEndpoint] { [AMQPEndpoint(host: host, port: port)] + failoverEndpoints }

    /// The endpoints as `host:port`, comma-separated, for logs and settings summaries.
    public var endpointList: String { endpoints.map(\.description).joined(separator: ",") }

    /// This configuration aimed at one of its endpoints only.
    func aimed(at endpoint: AMQPEndpoint) -> AMQPConfiguration {
        var single = self
        single.host = endpoint.host
        single.port = endpoint.port
        single.failoverEndpoints = []
        return single
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    var timeval: timeval {
        let (s, atto) = components
        return Glibc.timeval(tv_sec: Int(s), tv_usec: Int(atto / 1_000_000_000_000))
    }
}
