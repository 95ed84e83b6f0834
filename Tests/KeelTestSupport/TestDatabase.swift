import Foundation
public import Logging
public import PGClient

/// A fresh, empty PostgreSQL database on the test server, dropped by `drop()`, so tests that migrate or
/// fill a schema never see each other's tables.
public struct TestDatabase: Sendable {
    /// `CREATE` and `DROP DATABASE` a few at a time (`Admission` says why).
    static let administration = Admission(width: 3)

    public let name: String
    public let url: String
    let adminURL: String

    /// Creates `keel_test_<random hex>` through the server in `KEEL_DATABASE_URL`.
    public static func create(logger: Logger = Logger(label: "test")) async throws -> TestDatabase {
        let adminURL = try TestEnvironment.require("KEEL_DATABASE_URL")
        let name = "keel_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = PGPool(configuration: try Self.administering(adminURL), size: 1, logger: logger)
        do {
            // Identifiers cannot be bound; this one is made only of hex digits above.
            _ = try await administration.run {
                try await admin.withConnection { try await $0.execute("CREATE DATABASE \(unescaped: name)") }
            }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
        return TestDatabase(
            name: name, url: Self.replacingDatabase(in: adminURL, with: name), adminURL: adminURL)
    }

    /// A pool on the test database; the caller closes it.
    public func pool(size: Int = 4, logger: Logger = Logger(label: "test")) throws -> PGPool {
        PGPool(configuration: try PGConfiguration(url: url), size: size, logger: logger)
    }

    /// Drops the database, ending any sessions still connected to it.
    ///
    /// An autovacuum worker still going through freshly written data (resource chunks) is not ended by
    /// `WITH (FORCE)` for a non-superuser (SQLSTATE 42501), so that refusal is retried for up to a minute.
    public func drop(logger: Logger = Logger(label: "test")) async throws {
        let admin = PGPool(configuration: try Self.administering(adminURL), size: 1, logger: logger)
        let deadline = ContinuousClock.now + .seconds(60)
        do {
            while true {
                do {
                    _ = try await Self.administration.run {
                        try await admin.withConnection {
                            try await $0.execute("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)")
                        }
                    }
                    break
                } catch let error as PGError where error.sqlState == "42501" && ContinuousClock.now < deadline
                {
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
    }

    /// The server's URL without statement and lock timeouts: CREATE and DROP DATABASE wait for a
    /// checkpoint, which on a machine busy with the whole suite can take longer than a service's limits.
    static func administering(_ url: String) throws -> PGConfiguration {
        guard var components = URLComponents(string: url) else { return try PGConfiguration(url: url) }
        components.queryItems =
            (components.queryItems ?? []).filter { !["statement_timeout", "lock_timeout"].contains($0.name) }
            + [
                URLQueryItem(name: "statement_timeout", value: "0"),
                URLQueryItem(name: "lock_timeout", value: "0"),
            ]
        return try PGConfiguration(url: components.string ?? url)
    }

    static func replacingDatabase(in url: String, with database: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.path = "/" + database
        return components.string ?? url
    }
}
