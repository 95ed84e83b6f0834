public import Foundation

/// One stored version of a flow: immutable, numbered per flow, identified by the SHA-256 of its
/// canonical form.
public struct FlowVersionRecord: Sendable, Hashable, Codable {
    public var flow: String
    public var version: Int
    public var sha256: String
    /// The canonical JSON form of the definition.
    public var definition: String
    /// The YAML as pushed.
    public var source: String
    public var author: String
    public var createdAt: Date
}

/// A flow as listed: its live release and its newest version.
public struct FlowSummary: Sendable, Hashable, Codable {
    public var name: String
    public var description: String
    public var liveVersion: Int?
    public var latestVersion: Int
    public var updatedAt: Date
}

/// One release or rollback: who made which version live, when, and what was live before.
public struct FlowReleaseRecord: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable {
        case release
        case rollback
    }

    public var id: Int64
    public var flow: String
    public var fromVersion: Int?
    public var toVersion: Int
    public var kind: Kind
    public var actor: String
    public var reason: String?
    public var createdAt: Date
}
