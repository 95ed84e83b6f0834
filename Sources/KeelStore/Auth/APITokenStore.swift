import Foundation
import KeelCore
public import PGClient

/// Bearer API tokens: created with a role and groups, shown once, stored as the SHA-256 of their secret,
/// checked in constant time, revocable.
public struct APITokenStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// Creates a token for `name`; throws `APITokenError.nameTaken` if a token of that name exists.
    public func create(name: String, role: APITokenRole, groups: [String] = [], createdBy: String)
        async throws
        -> IssuedAPIToken
    {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }
            .joined()
        let secret = SecretBytes.base64URL((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let hash = ContentDigest.sha256Hex(of: Array(secret.utf8))
        let rows = try await pool.withConnection { connection in
            try await connection.query(
                """
                INSERT INTO api_tokens (id, name, role, groups, secret_hash, created_by)
                VALUES (\(id), \(name), \(role.rawValue), \(groups.sorted()), \(hash), \(createdBy))
                ON CONFLICT (name) DO NOTHING
                RETURNING \(unescaped: Self.columns)
                """)
        }
        guard let row = rows.first else { throw APITokenError.nameTaken(name) }
        return IssuedAPIToken(record: try Self.record(row), token: "keel_\(id)_\(secret)")
    }

    /// The holder of `token`, or nil when the token is malformed, unknown, revoked or wrong. Which of these
    /// it was is not told, so a guesser learns nothing.
    public func authenticate(_ token: String) async throws -> APITokenRecord? {
        guard let (id, secret) = Self.parse(token) else { return nil }
        let presented = ContentDigest.sha256Hex(of: Array(secret.utf8))
        return try await pool.withConnection { connection in
            let rows = try await connection.query(
                "SELECT secret_hash, revoked_at FROM api_tokens WHERE id = \(id)")
            guard let row = rows.first else { return nil }
            let (stored, revokedAt) = try row.decode((String, Date?).self)
            guard SecretBytes.constantTimeEqual(Array(stored.utf8), Array(presented.utf8)) else { return nil }
            guard revokedAt == nil else { return nil }
            return try await connection.query(
                """
                UPDATE api_tokens SET last_used_at = now() WHERE id = \(id) AND revoked_at IS NULL
                RETURNING \(unescaped: Self.columns)
                """
            ).first.map(Self.record)
        }
    }

    /// Every token, newest first, without secrets.
    public func list() async throws -> [APITokenRecord] {
        try await pool.withConnection { connection in
            try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM api_tokens ORDER BY created_at DESC"
            )
            .map(Self.record)
        }
    }

    /// Revokes the token named `name`; false when there is no such live token.
    public func revoke(name: String) async throws -> Bool {
        try await pool.withConnection { connection in
            !(try await connection.query(
                "UPDATE api_tokens SET revoked_at = now() WHERE name = \(name) AND revoked_at IS NULL RETURNING 1"
            )).isEmpty
        }
    }

    static let columns = "id, name, role, groups, created_by, created_at, last_used_at, revoked_at"

    static func record(_ row: PGRow) throws -> APITokenRecord {
        let (id, name, role, groups, createdBy, createdAt, lastUsedAt, revokedAt) = try row.decode(
            (String, String, String, [String], String, Date, Date?, Date?).self)
        guard let parsed = APITokenRole(rawValue: role) else {
            throw PGError(code: .decoding, message: "unknown token role")
        }
        return APITokenRecord(
            id: id, name: name, role: parsed, groups: groups, createdBy: createdBy, createdAt: createdAt,
            lastUsedAt: lastUsedAt, revokedAt: revokedAt)
    }

    /// `keel_<16 hex>_<43 base64url>` → (id, secret).
    static func parse(_ token: String) -> (id: String, secret: String)? {
        let parts = token.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "keel", parts[1].count == 16,
            parts[1].allSatisfy({ $0.isHexDigit && !$0.isUppercase }), parts[2].count == 43,
            parts[2].allSatisfy({
                $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || $0 == "-" || $0 == "_"
            })
        else { return nil }
        return (String(parts[1]), String(parts[2]))
    }
}

/// Why a token operation was refused (a user error in the CLI).
public enum APITokenError: Error, Sendable, Hashable, CustomStringConvertible {
    case nameTaken(String)

    public var description: String {
        switch self {
        case .nameTaken(let name):
            "a token named '\(name)' exists (a revoked one keeps its name: decisions made with it still name it); "
                + "choose another name"
        }
    }
}
