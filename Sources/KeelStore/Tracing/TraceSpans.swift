public import Instrumentation

/// Spans through swift-distributed-tracing, joined to a run's W3C `traceparent`.
///
/// Keel keeps each run's trace in its `traceparent` (stored with the run, carried on every message and
/// callback). A span of work for a run starts from that context, so whatever tracer the process
/// bootstrapped (swift-otel's, when `KEEL_OTLP_ENDPOINT` is set) puts it in the run's trace; with the
/// default no-op tracer the spans cost next to nothing and `traceparent(of:)` is nil.
public enum TraceSpans {
    /// The context a span for work of this trace starts from.
    public static func context(traceparent: String?) -> ServiceContext {
        var context = ServiceContext.topLevel
        if let traceparent {
            InstrumentationSystem.instrument.extract(
                ["traceparent": traceparent], into: &context, using: HeaderCarrier())
        }
        return context
    }

    /// The `traceparent` naming the span in `context`, to send on; nil when no tracer is bootstrapped.
    public static func traceparent(of context: ServiceContext) -> String? {
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: HeaderCarrier())
        return carrier["traceparent"]
    }
}

/// A `[String: String]` of headers as swift-distributed-tracing reads and writes them.
struct HeaderCarrier: Extractor, Injector {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}
