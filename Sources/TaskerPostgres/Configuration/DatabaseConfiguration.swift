public import Foundation
public import PostgresNIO
public import Logging

/// Where the PostgreSQL server is and how to log in, read from the environment.
///
/// `DATABASE_URL` (`postgres://user:password@host:port/database?sslmode=disable`) wins;
/// otherwise `POSTGRES_HOSTNAME`, `POSTGRES_PORT`, `POSTGRES_USER`, `POSTGRES_PASSWORD` and
/// `POSTGRES_DB`, with defaults matching `ops/start-services`.
public struct DatabaseConfiguration: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    /// `true` unless the URL says `sslmode=disable` (or the host is the loopback).
    public var useTLS: Bool
    /// Connections the pool may open.
    public var maximumConnections: Int

    public init(
        host: String = "127.0.0.1",
        port: Int = 55432,
        username: String = "tasker",
        password: String? = "tasker",
        database: String = "tasker",
        useTLS: Bool = false,
        maximumConnections: Int = 20
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.useTLS = useTLS
        self.maximumConnections = maximumConnections
    }

    /// Parses a `postgres://` or `postgresql://` URL.
    public init(url text: String) throws {
        guard let components = URLComponents(string: text),
            components.scheme == "postgres" || components.scheme == "postgresql",
            let host = components.host, !host.isEmpty
        else {
            throw ConfigurationError(message: "DATABASE_URL must look like postgres://user:password@host:port/database")
        }
        self.init()
        self.host = host
        self.port = components.port ?? 5432
        self.username = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        self.password = components.password.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? username : path
        let sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value
        self.useTLS = sslMode.map { $0 != "disable" } ?? !Self.isLoopback(host)
    }

    /// Reads `DATABASE_URL`, or the `POSTGRES_*` variables.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Self {
        if let url = environment["DATABASE_URL"], !url.isEmpty {
            var configuration = try Self(url: url)
            if let max = environment["DATABASE_MAX_CONNECTIONS"].flatMap(Int.init) { configuration.maximumConnections = max }
            return configuration
        }
        var configuration = Self()
        if let host = environment["POSTGRES_HOSTNAME"] { configuration.host = host }
        if let port = environment["POSTGRES_PORT"].flatMap(Int.init) { configuration.port = port }
        if let user = environment["POSTGRES_USER"] { configuration.username = user }
        if let password = environment["POSTGRES_PASSWORD"] { configuration.password = password }
        if let database = environment["POSTGRES_DB"] { configuration.database = database }
        if let max = environment["DATABASE_MAX_CONNECTIONS"].flatMap(Int.init) { configuration.maximumConnections = max }
        configuration.useTLS = !isLoopback(configuration.host)
        return configuration
    }

    /// The postgres-nio client configuration.
    public var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: useTLS ? .prefer(.makeClientConfiguration()) : .disable
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        // postgres-nio 1.33 strands queued requests when its last connection closes and the
        // minimum is 0 (vapor/postgres-nio#657; repro/PostgresPoolRestart): keep one open.
        configuration.options.minimumConnections = min(1, maximumConnections - 1)
        return configuration
    }

    /// A postgres-nio client for this configuration; call `run()` on it (in a task group or service group).
    /// Services use ``Database``, which adds deadlines and replaces a wedged pool.
    ///
    /// The pool logs with `logger` as it is: its warnings (connections that fail or close) must
    /// be seen in production.
    public func makeClient(logger: Logger) -> PostgresClient {
        PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
    }

    /// The location without the password, for logs.
    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    private static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// A configuration value that cannot be used.
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}
