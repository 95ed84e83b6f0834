public import Hummingbird
public import Logging
public import Prometheus
public import ServiceLifecycle

/// Builds a service's HTTP application: problem-JSON errors (for requests the parser refuses too), request metrics, the health and metrics
/// endpoints, and whatever routes the service adds. Tests call this directly with their own readiness
/// checks and registry; the executables call it from `KeelServiceMain`.
public func buildApplication(
    configuration: KeelConfiguration,
    readiness: Readiness,
    registry: PrometheusCollectorRegistry,
    logger: Logger,
    services: [any Service] = [],
    routes: (Router<BasicRequestContext>) throws -> Void = { _ in }
) rethrows -> some ApplicationProtocol {
    let router = Router()
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: MetricsMiddleware())
    HealthRoutes.add(
        to: router, service: configuration.service, readiness: readiness, registry: registry)
    try routes(router)
    return Application(
        router: router,
        server: .http1(configuration: .init(additionalChannelHandlers: [HTTPConnectionGuard()])),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: configuration.service.rawValue),
        services: services,
        logger: logger)
}
