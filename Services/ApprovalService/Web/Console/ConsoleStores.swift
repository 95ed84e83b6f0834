import KeelStore
import PGClient

/// What the console reads beyond the runs, approvals and resources the approval pages already read:
/// flows with their versions and releases, and refused triggers. Read only: the console changes nothing
/// (operator actions are in the API).
struct ConsoleStores: Sendable {
    let flows: FlowStore
    let rejections: TriggerRejectionStore

    init(pool: PGPool) {
        flows = FlowStore(pool: pool)
        rejections = TriggerRejectionStore(pool: pool)
    }
}
