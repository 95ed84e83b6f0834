// approval-service: the only way through an approval gate. Serves the approvals API (and page) for people,
// authenticates them by API token, records decisions and advances runs. See README.md beside this file.
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
                        pool: dependencies.pool, connection: dependencies.amqp.connected,
                        logger: dependencies.logger),
                    PendingApprovalsGauge(
                        pool: dependencies.pool, interval: .seconds(15), logger: dependencies.logger),
                ]
            },
            routes: { router, dependencies in
                let advancer = RunAdvancer(
                    pool: dependencies.pool, settings: dependencies.configuration.engine)
                ApprovalAPI(
                    approvals: ApprovalStore(pool: dependencies.pool, advancer: advancer),
                    runs: RunStore(pool: dependencies.pool), tokens: APITokenStore(pool: dependencies.pool)
                ).add(to: router)
            })
    }
}
