import Foundation
public import Logging
public import PGClient

/// A fresh, empty PostgreSQL database on the test server, dropped by `drop()`, so tests that migrate or
/// fill a schema never see each other's tables.
public struct TestDatabase: Sendable {
    /// `CREATE DATABASE` a few at a time (`Admission` says why).
    static let creation = Admission(width: 3)
    /// `DROP DATABASE` a few at a time, in a queue of its own: a test that ends does not wait behind the
    /// creations of the tests still starting.
    static let dropping = Admission(width: 2)

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
            _ = try await creation.run {
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
    /// `WITH (FORCE)` ends the sessions of a service a test left behind, but a non-superuser may not end
    /// an autovacuum worker that way (SQLSTATE 42501), and on a loaded machine one can stay a long time in a
    /// database of freshly written resource chunks. A plain `DROP DATABASE` ends autovacuum workers itself,
    /// so that refusal is followed by one; if sessions are still there (55006), both are tried again, for
    /// up to a minute.
    public func drop(logger: Logger = Logger(label: "test")) async throws {
        let admin = PGPool(configuration: try Self.administering(adminURL), size: 1, logger: logger)
        do {
            // Tries are counted, not timed: waiting in `dropping`'s queue uses none of the minute.
            for attempt in 1...Self.dropTries {
                if try await Self.dropOnce(name, admin: admin, lastTry: attempt == Self.dropTries) { break }
                try await Task.sleep(for: .milliseconds(200))
            }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
    }

    /// A minute of tries 200 ms apart.
    static let dropTries = 300

    /// One `WITH (FORCE)` drop, and a plain one after its autovacuum refusal: whether the database is gone.
    /// On the last try, every failure is thrown.
    static func dropOnce(_ name: String, admin: PGPool, lastTry: Bool) async throws -> Bool {
        try await dropping.run {
            try await admin.withConnection { connection in
                do {
                    _ = try await connection.execute(
                        "DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)")
                    return true
                } catch let error as PGError where error.sqlState == "42501" {
                    do {
                        _ = try await connection.execute("DROP DATABASE IF EXISTS \(unescaped: name)")
                        return true
                    } catch let error as PGError where error.sqlState == "55006" && !lastTry {
                        return false
                    }
                }
            }
        }
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
