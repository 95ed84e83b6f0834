// approval-service: the only way through an approval gate. Serves the approvals API (and page) for people,
// authenticates them by API token, records decisions and advances runs. See README.md beside this file.
import Foundation
import KeelBus
import KeelService
import KeelStore

@main
enum ApprovalService {
    static func main() async {
        await KeelServiceMain.main(
            .approvalService,
            services: { dependencies in
                [
                    OutboxRelay(
                        pool: dependencies.pool, connection: dependencies.publishing.connected,
                        logger: dependencies.logger),
                    PendingApprovalsGauge(
                        pool: dependencies.pool, interval: .seconds(15), logger: dependencies.logger),
                ] + WebhookNotifications.services(dependencies)
            },
            routes: { router, dependencies in
                let advancer = RunAdvancer(
                    pool: dependencies.pool, settings: dependencies.configuration.engine)
                let approvals = ApprovalStore(pool: dependencies.pool, advancer: advancer)
                let runs = RunStore(pool: dependencies.pool)
                let tokens = APITokenStore(pool: dependencies.pool)
                ApprovalAPI(approvals: approvals, runs: runs, tokens: tokens).add(to: router)
                OperatorAPIRoutes.add(
                    to: router, pool: dependencies.pool, advancer: advancer,
                    publishing: dependencies.publishing,
                    logger: dependencies.logger)
                let environment = ProcessInfo.processInfo.environment
                let resources: ResourceStore
                do {
                    resources = try ResourceStore(
                        pool: dependencies.pool,
                        configuration: ResourceConfiguration(value: { environment[$0] }))
                } catch {
                    dependencies.logger.critical("invalid resource settings", metadata: ["error": "\(error)"])
                    exit(2)
                }
                ApprovalWeb(
                    approvals: approvals, tokens: tokens, resources: resources, runs: runs,
                    console: ConsoleStores(pool: dependencies.pool),
                    https: dependencies.configuration.webHTTPS, logger: dependencies.logger
                ).addRoutes(to: router)
            })
    }
}
