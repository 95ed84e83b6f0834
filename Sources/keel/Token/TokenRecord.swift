import KeelAPI
import KeelStore

/// A token as the operators' API describes it, as the CLI prints tokens it read from the database.
enum TokenRecord {
    static func from(_ token: Components.Schemas.Token) -> APITokenRecord {
        APITokenRecord(
            id: token.id, name: token.name, role: APITokenRole(rawValue: token.role.rawValue) ?? .approver,
            groups: token.groups, createdBy: token.createdBy, createdAt: token.createdAt,
            lastUsedAt: token.lastUsedAt, revokedAt: token.revokedAt)
    }
}
