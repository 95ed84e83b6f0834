import KeelCore

/// One concurrency slot an attempt needs, as stored: the limit's name with its evaluated key, the
/// limit, and who holds it (the run for a flow-scope limit, the attempt for a step-scope one).
struct SlotClaim: Sendable, Hashable, Codable {
    var slot: String
    var limit: Int
    var holder: String

    static let runHolder = "run"

    init(slot: String, limit: Int, holder: String) {
        self.slot = slot
        self.limit = limit
        self.holder = holder
    }

    init(_ claim: ConcurrencyClaim, flow: String, attempt: AttemptID) {
        switch claim.scope {
        case .flow:
            self.init(slot: "flow:\(flow):\(claim.key)", limit: claim.limit, holder: Self.runHolder)
        case .step:
            // The elements of a mapped step share its limit.
            let limited = MapElement.parse(attempt.step)?.step ?? attempt.step
            self.init(
                slot: "step:\(flow):\(limited):\(claim.key)", limit: claim.limit, holder: attempt.slotHolder)
        }
    }
}
