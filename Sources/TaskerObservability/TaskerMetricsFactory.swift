public import CoreMetrics
public import Prometheus

/// The swift-metrics backend of a Tasker process: swift-prometheus, with Prometheus names
/// (``PrometheusNaming``) and histogram buckets fit for the pipeline's latencies and batches.
///
/// ```swift
/// let registry = PrometheusCollectorRegistry()
/// MetricsSystem.bootstrap(TaskerMetricsFactory(registry: registry))
/// let text = registry.emitToString()   // what GET /metrics serves
/// ```
public struct TaskerMetricsFactory: MetricsFactory {
    /// Duration buckets: from half a millisecond (one database decision) to a minute (slow handlers).
    public static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500),
        .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]
    /// Value buckets (batch sizes): 1 to the largest batch.
    public static let valueBuckets: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000]

    /// The registry that ``ObservabilityServer`` renders.
    public let registry: PrometheusCollectorRegistry
    private let counters: PrometheusMetricsFactory
    private let timers: PrometheusMetricsFactory
    private let recorders: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        func factory(_ kind: PrometheusNaming.Kind) -> PrometheusMetricsFactory {
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = Self.durationBuckets
            factory.defaultValueHistogramBuckets = Self.valueBuckets
            factory.nameAndLabelSanitizer = { label, dimensions in
                (PrometheusNaming.name(for: label, kind: kind), dimensions.map { (PrometheusNaming.labelName($0.0), $0.1) })
            }
            return factory
        }
        counters = factory(.counter)
        timers = factory(.timer)
        recorders = factory(.recorder)
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        counters.makeCounter(label: label, dimensions: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        counters.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        recorders.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        recorders.makeMeter(label: label, dimensions: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        timers.makeTimer(label: label, dimensions: dimensions)
    }

    public func destroyCounter(_ handler: any CounterHandler) { counters.destroyCounter(handler) }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { counters.destroyFloatingPointCounter(handler) }
    public func destroyRecorder(_ handler: any RecorderHandler) { recorders.destroyRecorder(handler) }
    public func destroyMeter(_ handler: any MeterHandler) { recorders.destroyMeter(handler) }
    public func destroyTimer(_ handler: any TimerHandler) { timers.destroyTimer(handler) }
}
