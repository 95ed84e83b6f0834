public import KeelCore
import OTel
public import ServiceLifecycle
import Tracing

/// A service's tracing: when `KEEL_OTLP_ENDPOINT` is set, swift-otel's tracer is bootstrapped as the
/// process's tracer and its spans are exported over OTLP/HTTP by the returned background service
/// (which the service group runs and, on shutdown, flushes). Off by default: the no-op tracer.
///
/// Only traces: logs stay Keel's structured lines and metrics stay Prometheus. The standard `OTEL_*`
/// environment variables (`OTEL_BSP_SCHEDULE_DELAY`, `OTEL_TRACES_SAMPLER`, ...) still apply.
public enum Telemetry {
    public static func bootstrap(_ service: KeelServiceKind, configuration: KeelConfiguration) throws
        -> (any Service)?
    {
        guard let endpoint = configuration.otlpEndpoint else { return nil }
        var otel = OTel.Configuration.default
        otel.serviceName = service.rawValue
        otel.resourceAttributes["service.version"] = KeelVersion.current
        otel.logs.enabled = false
        otel.metrics.enabled = false
        otel.traces.enabled = true
        otel.propagators = [.traceContext]
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        otel.traces.otlpExporter.endpoint = base + "/v1/traces"
        otel.traces.otlpExporter.protocol =
            configuration.otlpProtocol == "http/json" ? .httpJSON : .httpProtobuf
        let (tracer, exporter) = try OTel.makeTracingBackend(configuration: otel)
        InstrumentationSystem.bootstrap(tracer)
        return exporter
    }
}
