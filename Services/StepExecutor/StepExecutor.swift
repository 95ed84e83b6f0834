// step-executor: consumes keel.steps.<pool>.<shard>, claims attempts under a lease, runs their step kinds,
// records results and advances runs; also fires timers and takes back expired leases. See README.md.
import Foundation
import KeelBus
import KeelService
import KeelStore
import Logging

@main
enum StepExecutor {
    static func main() async {
        await KeelServiceMain.main(.stepExecutor) { dependencies in
            let configuration = dependencies.configuration
            let advancer = RunAdvancer(pool: dependencies.pool, settings: configuration.engine)
            let attempts = AttemptStore(advancer: advancer)
            let environment = ProcessInfo.processInfo.environment
            let resources: ResourceStore
            do {
                resources = try ResourceStore(
                    pool: dependencies.pool, configuration: ResourceConfiguration(value: { environment[$0] }))
            } catch {
                dependencies.logger.critical("invalid resource settings", metadata: ["error": "\(error)"])
                exit(2)
            }
            let sshHosts: SSHHosts
            let callbacks: CallbackSettings?
            do {
                sshHosts = try SSHHosts(environment: environment)
                callbacks = try CallbackSettings.from(environment: environment)
            } catch {
                dependencies.logger.critical(
                    "invalid ssh or callback settings", metadata: ["error": "\(error)"])
                exit(2)
            }
            let stepUsers = stepUserPool(
                environment: environment, maxInFlight: configuration.prefetch, logger: dependencies.logger)
            let pool = StepRoute.pool(runsOn: configuration.stepPool)
            let runner = StepRunner(
                attempts: attempts,
                kinds: StepKinds(
                    resources: resources, secrets: SecretSource(environment: environment),
                    logger: dependencies.logger, runDefaults: RunDefaults(environment: environment),
                    sshHosts: sshHosts, callbacks: callbacks, stepUsers: stepUsers),
                maxInFlight: configuration.prefetch,
                executorID: "\(ProcessInfo.processInfo.hostName):\(getpid())", pool: pool,
                inPlaceLimit: environment["KEEL_STEP_IN_PLACE_LIMIT"].flatMap { Int($0) } ?? 32,
                logger: dependencies.logger,
                exitAfterClaim: environment["KEEL_FAULT_EXIT_AFTER_CLAIM"].flatMap { Int($0) })
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
    }

    /// The uids `run` steps run as (`KEEL_STEP_ISOLATION`, docs/security.md); nil for `none`. Exits when
    /// isolation is asked for and this process cannot provide it: steps never silently run as the executor.
    static func stepUserPool(environment: [String: String], maxInFlight: Int, logger: Logger) -> StepUserPool?
    {
        do {
            let isolation = try StepIsolation(environment: environment)
            let setpriv = StepIsolation.findSetpriv()
            if let problem = isolation.problem(
                maxInFlight: maxInFlight, setpriv: setpriv,
                effectiveCapabilities: StepIsolation.effectiveCapabilities())
            {
                logger.critical("cannot isolate run steps", metadata: ["error": "\(problem)"])
                exit(2)
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
        } catch {
            logger.critical("invalid step isolation settings", metadata: ["error": "\(error)"])
            exit(2)
        }
    }
}
