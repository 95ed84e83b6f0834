public import Foundation
public import PGClient

/// Broker accounts that publish triggers, mapped to the principals they act for (`amqp_publishers`).
///
/// RabbitMQ refuses a message whose `user-id` property is not the account that published it, so a
/// trigger with a `user-id` names its publisher for certain; this store turns that account into the
/// run's authenticated requester.
public struct PublisherStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// The principal a broker account acts for: its mapped principal, else `amqp:<account>` (a shared
    /// account, such as the services' own, is a principal of its own and never a person's).
    public func principal(forBrokerUser user: String) async throws -> String {
        try await publisher(forBrokerUser: user).principal
    }

    /// The principal a broker account acts for, and whether it may name another (`acts_for_others`: the
    /// approval-service's account, which starts runs for the people its API authenticated).
    public func publisher(forBrokerUser user: String) async throws -> (principal: String, actsForOthers: Bool)
    {
        let rows = try await pool.withConnection { connection in
            try await connection.query(
                "SELECT principal, acts_for_others FROM amqp_publishers WHERE broker_user = \(user)")
        }
        guard let row = rows.first else { return ("amqp:\(user)", false) }
        return try row.decode((String, Bool).self)
    }

    /// Lets broker account `user` start runs for principals it names (`keel publisher trust`); the
    /// account keeps its own principal for triggers that name none.
    public func trust(brokerUser user: String, vhost: String, createdBy: String) async throws {
        try await pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO amqp_publishers (broker_user, principal, vhost, created_by, acts_for_others)
                VALUES (\(user), \("amqp:" + user), \(vhost), \(createdBy), true)
                ON CONFLICT (broker_user) DO UPDATE SET acts_for_others = true
                """)
        }
    }

    /// Records `user` as publishing for `principal`; replaces an earlier mapping of the same account.
    public func add(brokerUser user: String, principal: String, vhost: String, createdBy: String) async throws
    {
        try await pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO amqp_publishers (broker_user, principal, vhost, created_by)
                VALUES (\(user), \(principal), \(vhost), \(createdBy))
                ON CONFLICT (broker_user) DO UPDATE
                SET principal = EXCLUDED.principal, vhost = EXCLUDED.vhost, created_by = EXCLUDED.created_by,
                    created_at = now()
                """)
        }
    }

    /// Forgets `user`; false when it was not recorded.
    @discardableResult
    public func remove(brokerUser user: String) async throws -> Bool {
        try await pool.withConnection { connection in
            try await !connection.query(
                "DELETE FROM amqp_publishers WHERE broker_user = \(user) RETURNING 1"
            ).isEmpty
        }
    }

    /// Every mapping, by account name.
    public func list() async throws -> [Publisher] {
        let rows = try await pool.withConnection { connection in
            try await connection.query(
                "SELECT broker_user, principal, vhost, created_by, created_at FROM amqp_publishers ORDER BY broker_user"
            )
        }
        return try rows.map { row in
            let (brokerUser, principal, vhost, createdBy, createdAt) = try row.decode(
                (String, String, String, String, Date).self)
            return Publisher(
                brokerUser: brokerUser, principal: principal, vhost: vhost, createdBy: createdBy,
                createdAt: createdAt)
        }
    }
}

/// A broker account allowed to publish triggers, and who it publishes for.
public struct Publisher: Sendable, Hashable, Codable {
    public var brokerUser: String
    public var principal: String
    public var vhost: String
    public var createdBy: String
    public var createdAt: Date

    public init(brokerUser: String, principal: String, vhost: String, createdBy: String, createdAt: Date) {
        self.brokerUser = brokerUser
        self.principal = principal
        self.vhost = vhost
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}
