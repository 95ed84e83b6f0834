import KeelStore
import PGClient

/// What the console reads beyond the runs, approvals and resources the approval pages already read:
/// flows with their versions and releases, refused triggers, webhook deliveries with their attempts, and
/// the record of operators' API actions. Read only: the console changes nothing (operator actions are in
/// the API).
struct ConsoleStores: Sendable {
    let flows: FlowStore
    let rejections: TriggerRejectionStore
    let webhooks: WebhookDeliveryStore
    let actions: APIActionStore

    init(pool: PGPool) {
        flows = FlowStore(pool: pool)
        rejections = TriggerRejectionStore(pool: pool)
        webhooks = WebhookDeliveryStore(pool: pool)
        actions = APIActionStore(pool: pool)
    }
}
