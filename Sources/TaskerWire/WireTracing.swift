package import TaskerAMQP
package import Tracing

/// Trace context in AMQP message headers (docs/operations.md, "Traces").
///
/// The tracer the process bootstrapped decides the header names and format: with an
/// OpenTelemetry tracer they are W3C `traceparent` / `tracestate`. Without one (the no-op
/// tracer) nothing is written and nothing is read.
///
/// ```swift
/// let parent = WireTracing.context(from: delivery.properties.headers)
/// try await withSpan("step.attempt", context: parent, ofKind: .consumer) { _ in … }
/// ```
package enum WireTracing {
    /// The headers that carry `context` (empty when no tracer is bootstrapped or no span is active).
    package static func headers(for context: ServiceContext) -> [String: AMQPFieldValue] {
        var headers: [String: AMQPFieldValue] = [:]
        InstrumentationSystem.instrument.inject(context, into: &headers, using: HeadersInjector())
        return headers
    }

    /// The trace context a message's headers carry, as the parent for the receiver's span.
    package static func context(from headers: [String: AMQPFieldValue]) -> ServiceContext {
        var context = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(headers, into: &context, using: HeadersExtractor())
        return context
    }

    /// The trace context a ``StepResultBatch/Entry`` carries (its `trace`), as the parent for the receiver's span.
    package static func context(from trace: [String: String]) -> ServiceContext {
        guard !trace.isEmpty else { return .topLevel }
        return context(from: trace.mapValues(AMQPFieldValue.string))
    }

    struct HeadersInjector: Injector {
        func inject(_ value: String, forKey key: String, into headers: inout [String: AMQPFieldValue]) {
            headers[key] = .string(value)
        }
    }

    struct HeadersExtractor: Extractor {
        func extract(key: String, from headers: [String: AMQPFieldValue]) -> String? {
            headers[key]?.stringValue
        }
    }
}
