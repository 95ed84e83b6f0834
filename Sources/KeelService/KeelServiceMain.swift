public import KeelCore
import AMQPClient
import KeelBus
public import Configuration
import Foundation
public import Hummingbird
import KeelStore
public import Logging
import Metrics
public import PGClient
import Prometheus
public import ServiceLifecycle

/// What every service executable does at start-up: read its configuration, install logging and metrics,
/// open its PostgreSQL pool and broker connection, and serve health and metrics until SIGTERM.
///
/// A service passes its own long-lived work as `services` (consumers, relays, sweepers) and its HTTP
/// endpoints as `routes`; they start after the shared dependencies and stop, gracefully, before them.
public enum KeelServiceMain {
    /// The dependencies a service's own work is built from.
    public struct Dependencies: Sendable {
        public let configuration: KeelConfiguration
        /// Where every setting comes from (flags, then `KEEL_` environment variables): what a service's own
        /// settings types read with `init(reader:)`.
        public let reader: ConfigReader
        /// The process environment as it was at start, for the one kind of setting a reader cannot give: a
        /// family named by prefix, whose names are not known in advance (`KEEL_SECRET_<NAME>`).
        public let environment: [String: String]
        public let pool: PGPool
        /// The broker connection consumers use.
        public let amqp: AMQPConnectionService
        /// The broker connection publishers (outbox relays, dead letters) use: a resource alarm that
        /// blocks it leaves consumers' acks and deliveries flowing.
        public let publishing: AMQPConnectionService
        public let logger: Logger
    }

    /// Builds the service from `reader` and runs it until SIGTERM or SIGINT. Tests and `main` call this;
    /// a setting that cannot be used throws a `ConfigurationProblem` before anything starts. `environment`
    /// (by default the process's) is what `Dependencies.environment` hands the service.
    public static func run(
        _ service: KeelServiceKind,
        reader: ConfigReader = KeelConfiguration.standardReader(),
        environment: [String: String]? = nil,
        services: @Sendable (Dependencies) throws -> [any Service] = { _ in [] },
        routes: @escaping @Sendable (Router<BasicRequestContext>, Dependencies) throws -> Void = { _, _ in }
    ) async throws {
        // Before anything secret is read: no other process of this user may read our memory or environ.
        if !ProcessDumpability.makeNonDumpable() {
            KeelLogHandler.standardError("\(service.rawValue): cannot make the process non-dumpable")
        }
        let configuration: KeelConfiguration
        do {
            configuration = try KeelConfiguration(service: service, reader: reader)
        } catch {
            KeelLogHandler.standardError("\(service.rawValue): \(error)")
            throw error
        }
        KeelLogHandler.bootstrap(
            service: service.rawValue, format: configuration.logFormat, level: configuration.logLevel)
        let telemetry = try Telemetry.bootstrap(service, configuration: configuration)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory.keel(registry: registry))
        let logger = Logger(label: "keel.\(service.rawValue)")

        let pool = PGPool(
            configuration: try PGConfiguration(url: configuration.databaseURL),
            size: configuration.databasePoolSize, logger: logger)
        var consuming = try AMQPConfiguration(url: configuration.amqpURL)
        consuming.connectionName = "\(service.rawValue) consumers"
        var publishingConfiguration = consuming
        publishingConfiguration.connectionName = "\(service.rawValue) publishers"
        let amqp = AMQPConnectionService(configuration: consuming, logger: logger)
        let publishing = AMQPConnectionService(
            configuration: publishingConfiguration, name: "rabbitmq-publishing", logger: logger)
        let poolService = PGPoolService(pool: pool)
        let dependencies = Dependencies(
            configuration: configuration, reader: reader,
            environment: environment ?? ProcessInfo.processInfo.environment, pool: pool, amqp: amqp,
            publishing: publishing, logger: logger)

        Gauge(
            label: "keel_service_info",
            dimensions: [("service", service.rawValue), ("version", KeelVersion.current)]
        )
        .record(1)
        let own = try services(dependencies)
        let readiness = Readiness(
            checks: [
                poolService.readinessCheck,
                poolService.schemaCheck(migrator: try Migrator.bundled()),
                amqp.readinessCheck,
                publishing.readinessCheck,
            ] + own.compactMap { ($0 as? DeliveryConsumer)?.readinessCheck }, logger: logger)
        let app = try buildApplication(
            configuration: configuration, readiness: readiness, registry: registry, logger: logger,
            routes: { try routes($0, dependencies) })
        let group = ServiceGroup(
            configuration: .init(
                // The exporter first: a group stops in reverse order, so it flushes the others' last spans.
                services: (telemetry.map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0)] }
                    ?? []) + [
                        .init(service: poolService),
                        .init(service: amqp),
                        .init(service: publishing),
                    ] + own.map { .init(service: $0) } + [.init(service: app)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        logger.info(
            "starting",
            metadata: ["address": .string("\(configuration.host):\(configuration.port)")])
        try await group.run()
    }
}

extension KeelServiceMain {
    /// Runs a service and exits the process: 0 after a graceful shutdown, 2 when a setting cannot be used
    /// (a `ConfigurationProblem`, said on standard error before anything starts), 1 when start-up or the
    /// service failed. It leaves through `ServiceExit`, once the libpq and librabbitmq threads have ended,
    /// without exit-time clean-up.
    public static func main(
        _ service: KeelServiceKind,
        services: @Sendable (Dependencies) throws -> [any Service] = { _ in [] },
        routes: @escaping @Sendable (Router<BasicRequestContext>, Dependencies) throws -> Void = { _, _ in }
    ) async -> Never {
        do {
            try await run(service, services: services, routes: routes)
            await ServiceExit.exit(0)
        } catch let problem as any ConfigurationProblem {
            KeelLogHandler.standardError("\(service.rawValue): invalid configuration: \(problem)")
            await ServiceExit.exit(2)
        } catch {
            KeelLogHandler.standardError("\(service.rawValue) stopped: \(error)")
            await ServiceExit.exit(1)
        }
    }

    /// `main` for a service with settings of its own: reads them with `settings` from the standard reader
    /// first (exit 2, naming the setting, when they cannot be used), then builds and runs the service.
    public static func main<Settings: Sendable>(
        _ service: KeelServiceKind,
        settings read: (ConfigReader) throws -> Settings,
        services: @escaping @Sendable (Dependencies, Settings) throws -> [any Service],
        routes: @escaping @Sendable (Router<BasicRequestContext>, Dependencies, Settings) throws -> Void = {
            _, _, _ in
        }
    ) async -> Never {
        // Before the settings (callback keys, URLs) are read: no other process of this user may read them.
        if !ProcessDumpability.makeNonDumpable() {
            KeelLogHandler.standardError("\(service.rawValue): cannot make the process non-dumpable")
        }
        let settings: Settings
        do {
            settings = try read(KeelConfiguration.standardReader())
        } catch {
            KeelLogHandler.standardError("\(service.rawValue): invalid configuration: \(error)")
            await ServiceExit.exit(2)
        }
        await main(
            service, services: { try services($0, settings) }, routes: { try routes($0, $1, settings) })
    }
}
