public import Hummingbird
public import Prometheus

/// The observability endpoints, to mount on any Hummingbird router (``ObservabilityServer``
/// mounts them on a port of their own; `tasker api` can mount them next to its API).
///
/// - `GET /metrics`: every metric of the process in the Prometheus text format (0.0.4).
/// - `GET /health/live` (and `GET /health`): 200 while the process serves requests at all.
/// - `GET /health/ready` (and `GET /ready`): 200 when every ``ReadinessCheck`` passes,
///   503 otherwise; the body names each check: `{"status":"ready","checks":{"database":true}}`.
public struct ObservabilityRoutes: Sendable {
    /// Which endpoints ``register(on:paths:)`` adds.
    public struct Paths: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// `GET /metrics`.
        public static let metrics = Paths(rawValue: 1)
        /// `GET /health/live` and `GET /health/ready`.
        public static let health = Paths(rawValue: 2)
        /// The short aliases `GET /health` (liveness) and `GET /ready` (readiness).
        public static let aliases = Paths(rawValue: 4)
        public static let all: Paths = [.metrics, .health, .aliases]
    }

    /// The Prometheus content type of `GET /metrics`.
    public static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    public let registry: PrometheusCollectorRegistry
    public let readiness: [ReadinessCheck]

    public init(registry: PrometheusCollectorRegistry, readiness: [ReadinessCheck]) {
        self.registry = registry
        self.readiness = readiness
    }

    /// Adds the endpoints in `paths` to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>, paths: Paths = .all) {
        if paths.contains(.metrics) {
            router.get("metrics") { _, _ in self.metrics() }
        }
        if paths.contains(.health) {
            router.get("health/live") { _, _ in Self.live() }
            router.get("health/ready") { _, _ in await self.ready() }
        }
        if paths.contains(.aliases) {
            router.get("health") { _, _ in Self.live() }
            router.get("ready") { _, _ in await self.ready() }
        }
    }

    /// The answer of `GET /metrics`.
    public func metrics() -> Response {
        Response(
            status: .ok, headers: [.contentType: Self.metricsContentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }

    /// The answer of `GET /health/live`.
    public static func live() -> Response {
        json(status: .ok, #"{"status":"live"}"#)
    }

    /// The answer of `GET /health/ready`.
    public func ready() async -> Response {
        let (ready, results) = await ReadinessCheck.evaluate(readiness)
        let checks = results.map { "\"\(Self.escaped($0.name))\":\($0.passed)" }.joined(separator: ",")
        let body = #"{"status":"\#(ready ? "ready" : "not_ready")","checks":{\#(checks)}}"#
        return Self.json(status: ready ? .ok : .serviceUnavailable, body)
    }

    private static func json(status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body + "\n")))
    }

    private static func escaped(_ name: String) -> String {
        String(name.unicodeScalars.filter { $0 != "\"" && $0 != "\\" && $0.value >= 0x20 }.map(Character.init))
    }
}
