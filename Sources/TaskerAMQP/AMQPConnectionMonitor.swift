import Synchronization

/// Tracks the connections opened with a configuration and their consumers, so a process can
/// say whether it is ready (every connection up, its consumers running).
///
/// Set it on ``AMQPConfiguration/monitor``; every connection opened with that configuration
/// (or a copy of it) reports itself while it exists.
///
/// ```swift
/// let monitor = AMQPConnectionMonitor()
/// configuration.monitor = monitor
/// // ... later, from a readiness probe:
/// let ready = monitor.isReady(minimumConnections: 2, minimumConsumers: 1)
/// ```
public final class AMQPConnectionMonitor: Sendable {
    /// One open connection as the monitor sees it.
    public struct ConnectionStatus: Sendable, Hashable {
        /// The connection's name (``AMQPConfiguration/connectionName``).
        public var name: String
        /// Whether it is established now (false while connecting or reconnecting).
        public var connected: Bool
        /// Consumers started on it whose deliveries have not ended.
        public var consumers: Int
    }

    private let state = Mutex<[ObjectIdentifier: ConnectionStatus]>([:])

    public init() {}

    /// The connections that exist now (opened and not yet closed), by name.
    public var connections: [ConnectionStatus] {
        state.withLock { Array($0.values) }.sorted { $0.name < $1.name }
    }

    /// Whether at least `minimumConnections` connections exist, every one of them is
    /// established, and together they run at least `minimumConsumers` consumers.
    public func isReady(minimumConnections: Int = 1, minimumConsumers: Int = 0) -> Bool {
        let connections = self.connections
        return connections.count >= minimumConnections && connections.allSatisfy(\.connected)
            && connections.reduce(0) { $0 + $1.consumers } >= minimumConsumers
    }

    func opened(_ id: ObjectIdentifier, name: String) {
        state.withLock { $0[id] = ConnectionStatus(name: name, connected: false, consumers: 0) }
    }

    func connectionChanged(_ id: ObjectIdentifier, connected: Bool) {
        state.withLock { $0[id]?.connected = connected }
    }

    func consumersChanged(_ id: ObjectIdentifier, count: Int) {
        state.withLock { $0[id]?.consumers = count }
    }

    func closed(_ id: ObjectIdentifier) {
        _ = state.withLock { $0.removeValue(forKey: id) }
    }
}
