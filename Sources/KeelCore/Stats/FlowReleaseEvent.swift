/// A release or rollback of a flow (`keel flow release`, `keel flow rollback`), as the statistics
/// need it: which version stopped and which started being live, and when.
public struct FlowReleaseEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case release
        case rollback
    }

    public var flow: String
    /// The version live before; nil for a flow's first release.
    public var fromVersion: Int?
    public var toVersion: Int
    public var kind: Kind
    public var at: Timestamp

    public init(flow: String, fromVersion: Int?, toVersion: Int, kind: Kind, at: Timestamp) {
        self.flow = flow
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.kind = kind
        self.at = at
    }
}
