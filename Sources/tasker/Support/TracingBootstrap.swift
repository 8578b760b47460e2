import Foundation
import Logging
import ServiceLifecycle
import Tracing
#if OTLPExporter
import OTel
#endif

/// The process's tracer (docs/operations.md, "Traces"). Built with the `OTLPExporter` trait and
/// given an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`),
/// spans are exported over OTLP/HTTP by swift-otel, configured by the standard `OTEL_*`
/// variables; otherwise the no-op tracer stays (no spans, no trace headers).
enum TracingBootstrap {
    /// Whether this binary was built with the exporter.
    static var exporterBuilt: Bool {
        #if OTLPExporter
        true
        #else
        false
        #endif
    }

    /// Bootstraps the tracer when an endpoint is configured and returns the exporter's service
    /// (run it first in the service group, so it stops last and flushes the spans); else nothing.
    static func services(serviceName: String, logger: Logger) throws -> [any Service] {
        let environment = ProcessInfo.processInfo.environment
        let endpoint = environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? environment["OTEL_EXPORTER_OTLP_ENDPOINT"]
        guard let endpoint, !endpoint.isEmpty else { return [] }
        #if OTLPExporter
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        configuration.traces.enabled = true
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        let (tracer, service) = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(tracer)
        logger.info("exporting traces over OTLP", metadata: ["otel.endpoint": "\(endpoint)"])
        return [service]
        #else
        logger.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set, but this tasker was built without the OTLPExporter trait: no traces")
        return []
        #endif
    }
}
