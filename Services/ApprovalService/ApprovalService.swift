// approval-service: the only way through an approval gate. Serves the approvals API (and page) for people,
// authenticates them by API token, records decisions and advances runs. See README.md beside this file.
import Hummingbird
import KeelBus
import KeelService
import KeelStore
import ServiceLifecycle

@main
enum ApprovalService {
    static func main() async {
        await KeelServiceMain.main(
            .approvalService, settings: ApprovalServiceSettings.init(reader:), services: services,
            routes: routes)
    }

    /// The outbox relay, the pending-approvals gauge and, when a webhook secret is set, the notification
    /// consumer and sender.
    static func services(
        _ dependencies: KeelServiceMain.Dependencies, _ settings: ApprovalServiceSettings
    ) -> [any Service] {
        [
            OutboxRelay(
                pool: dependencies.pool, connection: dependencies.publishing.connected,
                logger: dependencies.logger),
            PendingApprovalsGauge(
                pool: dependencies.pool, interval: .seconds(15), logger: dependencies.logger),
        ] + WebhookNotifications.services(dependencies, settings.webhooks)
    }

    /// The approvals API, the operators' API, and the approval and console pages.
    static func routes(
        _ router: Router<BasicRequestContext>, _ dependencies: KeelServiceMain.Dependencies,
        _ settings: ApprovalServiceSettings
    ) throws {
        let advancer = RunAdvancer(pool: dependencies.pool, settings: dependencies.configuration.engine)
        let approvals = ApprovalStore(pool: dependencies.pool, advancer: advancer)
        let runs = RunStore(pool: dependencies.pool)
        let tokens = APITokenStore(pool: dependencies.pool)
        ApprovalAPI(approvals: approvals, runs: runs, tokens: tokens).add(to: router)
        OperatorAPIRoutes.add(
            to: router, pool: dependencies.pool, advancer: advancer, publishing: dependencies.publishing,
            logger: dependencies.logger)
        ApprovalWeb(
            approvals: approvals, tokens: tokens,
            resources: try ResourceStore(pool: dependencies.pool, configuration: settings.resources),
            runs: runs,
            console: ConsoleStores(pool: dependencies.pool), https: dependencies.configuration.webHTTPS,
            logger: dependencies.logger
        ).addRoutes(to: router)
    }
}
