// step-executor: consumes keel.steps.<pool>.<shard>, claims attempts under a lease, runs their step kinds,
// records results and advances runs; also fires timers and takes back expired leases. See README.md.
import Foundation
import KeelBus
import KeelService
import KeelStore
import Logging
import ServiceLifecycle

@main
enum StepExecutor {
    static func main() async {
        await KeelServiceMain.main(
            .stepExecutor, settings: StepExecutorSettings.init(reader:), services: services)
    }

    /// The executor's own long-lived work, built from the shared dependencies and its settings: the step
    /// consumer and runner, the engine's sweeper and the outbox relay. Throws a `ConfigurationProblem` when
    /// the settings ask for what this process cannot give (step isolation without its capabilities).
    static func services(
        _ dependencies: KeelServiceMain.Dependencies, _ settings: StepExecutorSettings
    ) throws -> [any Service] {
        let configuration = dependencies.configuration
        let advancer = RunAdvancer(pool: dependencies.pool, settings: configuration.engine)
        let attempts = AttemptStore(advancer: advancer)
        let resources = try ResourceStore(pool: dependencies.pool, configuration: settings.resources)
        let stepUsers = try stepUserPool(
            settings.isolation, maxInFlight: configuration.prefetch, logger: dependencies.logger)
        let pool = StepRoute.pool(runsOn: configuration.stepPool)
        let runner = StepRunner(
            attempts: attempts,
            kinds: StepKinds(
                resources: resources, secrets: SecretSource(environment: dependencies.environment),
                logger: dependencies.logger, runDefaults: settings.runDefaults,
                sshHosts: settings.sshHosts, callbacks: settings.callbacks, stepUsers: stepUsers),
            maxInFlight: configuration.prefetch,
            executorID: "\(ProcessInfo.processInfo.hostName):\(getpid())", pool: pool,
            inPlaceLimit: settings.inPlaceLimit, logger: dependencies.logger,
            exitAfterClaim: settings.exitAfterClaim)
        let shards = configuration.engine.stepShards
        let consumer = DeliveryConsumer(
            name: "step consumer", declaration: KeelTopology.stepExecutor(pool: pool, shards: shards),
            queues: (0..<shards).map { KeelTopology.stepQueue(pool: pool, shard: $0).name },
            prefetch: configuration.prefetch, connection: dependencies.amqp.connected,
            publishing: dependencies.publishing.connected, logger: dependencies.logger,
            handler: runner.handle)
        return [
            runner, consumer,
            EngineSweeper(
                timers: TimerStore(advancer: advancer), attempts: attempts, pool: dependencies.pool,
                logger: dependencies.logger),
            OutboxRelay(
                pool: dependencies.pool, connection: dependencies.publishing.connected,
                logger: dependencies.logger),
        ]
    }

    /// The uids `run` steps run as (`KEEL_STEP_ISOLATION`, docs/security.md); nil for `none`. Throws when
    /// isolation is asked for and this process cannot provide it: steps never silently run as the executor.
    static func stepUserPool(_ isolation: StepIsolation, maxInFlight: Int, logger: Logger) throws
        -> StepUserPool?
    {
        let setpriv = StepIsolation.findSetpriv()
        if let problem = isolation.problem(
            maxInFlight: maxInFlight, setpriv: setpriv,
            effectiveCapabilities: StepIsolation.effectiveCapabilities())
        {
            throw StepIsolationUnavailable(description: "cannot isolate run steps: \(problem)")
        }
        guard case .uidRange(let range) = isolation, let setpriv else {
            logger.warning("run steps run as the executor's own user (KEEL_STEP_ISOLATION=none)")
            return nil
        }
        let pool = try StepUserPool(range: range, setpriv: setpriv)
        logger.info(
            "run steps run as uids of their own",
            metadata: [
                "uid_range": "\(range.lowerBound)-\(range.upperBound)", "locks": "\(pool.lockDirectory)",
            ])
        return pool
    }
}

/// Step isolation was asked for and this process cannot provide it (no setpriv, no capabilities, a range
/// holding its own uid, too few uids): a configuration problem, so the executor exits 2 rather than run
/// steps as itself.
struct StepIsolationUnavailable: ConfigurationProblem {
    var description: String
}
