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

    /// Parses `amqp://user:pass@host:port/vhost` (or `amqps://` for TLS).
    ///
    /// The virtual host is percent-decoded (`%2f` is `/`); an empty path means `/`.
    public init(url: String, connectionName: String? = nil) throws {
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
            host: components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost",
            port: components.port ?? (isTLS ? 5671 : 5672),
            username: components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "guest",
            password: components.percentEncodedPassword.flatMap { $0.removingPercentEncoding } ?? "guest",
            virtualHost: vhost,
            tls: isTLS ? TLS() : nil,
            connectionName: connectionName
        )
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
