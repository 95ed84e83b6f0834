/// What changed between two versions of a flow, by meaning rather than by text: steps added, removed
/// and changed (any field of the step), and the flow-level settings that differ.
public struct FlowDefinitionDiff: Sendable, Hashable, Encodable {
    public var fromVersion: Int
    public var toVersion: Int
    /// In the newer version's order.
    public var added: [String]
    /// In the older version's order.
    public var removed: [String]
    /// In the newer version's order.
    public var changed: [String]
    /// Flow-level fields that differ (`input`, `concurrency`, `shard_key`, `timeout`, `schedules`,
    /// `notify`, or `other` for a field this list does not name).
    public var settings: [String]

    enum CodingKeys: String, CodingKey {
        case added, removed, changed, settings
        case fromVersion = "from_version"
        case toVersion = "to_version"
    }

    public init(
        from old: FlowDefinition, version fromVersion: Int, to new: FlowDefinition, version toVersion: Int
    ) {
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        added = new.steps.map(\.id).filter { old.step($0) == nil }
        removed = old.steps.map(\.id).filter { new.step($0) == nil }
        changed = new.steps.filter { step in old.step(step.id).map { $0 != step } ?? false }.map(\.id)
        var settings: [String] = []
        if old.input != new.input { settings.append("input") }
        if old.concurrency != new.concurrency { settings.append("concurrency") }
        if old.shardKey != new.shardKey { settings.append("shard_key") }
        if old.timeout != new.timeout { settings.append("timeout") }
        if old.schedules != new.schedules { settings.append("schedules") }
        if old.notify != new.notify { settings.append("notify") }
        if settings.isEmpty {
            // A field added to flows after this list was written still counts.
            var oldRest = old
            var newRest = new
            oldRest.steps = []
            newRest.steps = []
            oldRest.description = nil
            newRest.description = nil
            if oldRest != newRest { settings.append("other") }
        }
        self.settings = settings
    }

    /// Whether the step's own definition is the same in both versions.
    public func isUnchanged(_ step: String) -> Bool {
        !added.contains(step) && !removed.contains(step) && !changed.contains(step)
    }

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty && settings.isEmpty }
}
