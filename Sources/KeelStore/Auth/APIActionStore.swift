public import Foundation
public import PGClient

/// The record of what people did through the operators' API (`api_actions`, append-only): every action
/// that changes something, whether it was done, refused by the state it met, or forbidden by the role.
public struct APIActionStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// Records one action taken by `principal`'s token.
    public func record(_ action: APIAction) async throws {
        try await pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO api_actions (principal, token_id, role, action, target, outcome, detail)
                VALUES (\(action.principal), \(action.tokenID), \(action.role), \(action.action),
                        \(action.target.storable), \(action.outcome.rawValue), \(action.detail?.storable))
                """)
        }
    }

    /// The newest actions first.
    public func recent(limit: Int) async throws -> [APIAction] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT id, principal, token_id, role, action, target, outcome, detail, at
                FROM api_actions ORDER BY id DESC LIMIT \(limit)
                """
            ).map { row in
                let (id, principal, tokenID, role, action, target, outcome, detail, at) = try row.decode(
                    (Int64, String, String, String, String, String, String, String?, Date).self)
                return APIAction(
                    id: id, principal: principal, tokenID: tokenID, role: role, action: action,
                    target: target,
                    outcome: APIAction.Outcome(rawValue: outcome) ?? .refused, detail: detail, at: at)
            }
        }
    }
}

/// One action taken through the operators' API.
public struct APIAction: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        /// It changed what it asked to.
        case done
        /// The state it met refused it (the run already finished, nothing to roll back).
        case refused
        /// The token's role does not allow it.
        case forbidden
    }

    public var id: Int64?
    public var principal: String
    public var tokenID: String
    public var role: String
    /// What was asked: `run.start`, `run.cancel`, `run.retry`, `flow.release`, `flow.rollback`,
    /// `token.create`, `token.revoke`.
    public var action: String
    /// The run id, flow name or token name acted on.
    public var target: String
    public var outcome: Outcome
    /// The reason given, or why it was refused.
    public var detail: String?
    public var at: Date?

    public init(
        id: Int64? = nil, principal: String, tokenID: String, role: String, action: String, target: String,
        outcome: Outcome, detail: String? = nil, at: Date? = nil
    ) {
        self.id = id
        self.principal = principal
        self.tokenID = tokenID
        self.role = role
        self.action = action
        self.target = target
        self.outcome = outcome
        self.detail = detail
        self.at = at
    }
}
