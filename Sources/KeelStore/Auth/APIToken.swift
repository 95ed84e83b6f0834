public import Foundation

/// What a bearer token lets its holder do; each role includes the ones before it.
public enum APITokenRole: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// Decides approvals it is listed for.
    case approver
    /// Also cancels and retries runs.
    case `operator`
    /// Also manages tokens.
    case admin

    public static func < (lhs: APITokenRole, rhs: APITokenRole) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int {
        switch self {
        case .approver: 0
        case .operator: 1
        case .admin: 2
        }
    }
}

/// A token as stored: who it stands for, never its secret.
public struct APITokenRecord: Sendable, Hashable, Codable {
    /// The token's public id (16 hex digits), also its prefix after `keel_`.
    public var id: String
    /// The identity decisions are recorded under.
    public var name: String
    public var role: APITokenRole
    /// Approver groups (`group:NAME` in a flow) the holder belongs to.
    public var groups: [String]
    public var createdBy: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(
        id: String, name: String, role: APITokenRole, groups: [String], createdBy: String, createdAt: Date,
        lastUsedAt: Date? = nil, revokedAt: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.role = role
        self.groups = groups
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}

/// A token just created: the only time its full text exists outside its holder.
public struct IssuedAPIToken: Sendable {
    public var record: APITokenRecord
    /// `keel_<id>_<secret>`; shown once, stored nowhere.
    public var token: String

    public init(record: APITokenRecord, token: String) {
        self.record = record
        self.token = token
    }
}
