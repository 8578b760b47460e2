/// One condition of a process's readiness (`GET /health/ready`): a name and a probe.
///
/// ```swift
/// let checks = [
///     ReadinessCheck(name: "database") { database.isReady },
///     ReadinessCheck(name: "broker") { monitor.isReady(minimumConnections: 2, minimumConsumers: 1) },
/// ]
/// ```
public struct ReadinessCheck: Sendable {
    /// Shown in the readiness answer (`{"checks": {"database": true, ...}}`).
    public var name: String
    /// Answers quickly (it runs on every probe) and never throws: `false` means not ready.
    public var probe: @Sendable () async -> Bool

    public init(name: String, probe: @escaping @Sendable () async -> Bool) {
        self.name = name
        self.probe = probe
    }

    /// Runs every check; the process is ready when all pass.
    public static func evaluate(_ checks: [ReadinessCheck]) async -> (ready: Bool, results: [(name: String, passed: Bool)]) {
        var results: [(name: String, passed: Bool)] = []
        for check in checks { results.append((check.name, await check.probe())) }
        return (results.allSatisfy(\.passed), results)
    }
}
