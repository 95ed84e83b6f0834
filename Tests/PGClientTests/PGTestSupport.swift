import Foundation
import KeelTestSupport
import Logging
import PGClient
import Synchronization
import Testing

/// Every test that talks to the server is nested in this suite, which runs its tests one at a time:
/// the restart tests take the server down, which would break anything running beside them.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct PGClientTests {}

/// Settings and helpers shared by the PGClient tests.
enum PGTest {
    static let logger: Logger = {
        var logger = Logger(label: "keel.pgclient.tests")
        logger.logLevel = .info
        return logger
    }()

    /// The test server's configuration, tagged with an application name the tests can find in
    /// `pg_stat_activity`.
    static func configuration(applicationName: String = "keel-pgclient-tests") throws
        -> PGConfiguration
    {
        var configuration = try PGConfiguration(url: TestEnvironment.require("KEEL_DATABASE_URL"))
        configuration.applicationName = applicationName
        configuration.connectTimeout = .seconds(15)
        return configuration
    }

    /// A name no other test (or earlier run) uses, for tables, channels and application names.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))_\(UInt16.random(in: 0...UInt16.max))"
    }

    static func withConnection<T: Sendable>(
        applicationName: String = "keel-pgclient-tests", _ body: (PGConnection) async throws -> T
    ) async throws -> T {
        let connection = try await PGConnection.connect(
            configuration(applicationName: applicationName), logger: logger)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    static func withPool<T: Sendable>(
        size: Int = 4, applicationName: String = "keel-pgclient-tests",
        _ body: (PGPool) async throws -> T
    ) async throws -> T {
        let pool = PGPool(
            configuration: try configuration(applicationName: applicationName), size: size, logger: logger
        )
        do {
            let result = try await body(pool)
            await pool.close()
            return result
        } catch {
            await pool.close()
            throw error
        }
    }

    /// Runs `body`, failing with `DeadlineExceeded` if it takes longer than `limit` (the body is cancelled).
    static func within<T: Sendable>(
        _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw DeadlineExceeded(what: what, limit: limit)
            }
            return value
        }
    }

    /// Waits until the server runs a statement whose text contains `marker`, so a test cancels a
    /// statement that really runs instead of hoping a fixed pause was long enough.
    static func waitUntilRunning(_ marker: String) async throws {
        try await withConnection(applicationName: "keel-pgclient-observer") { observer in
            try await waitUntil("a statement containing \(marker) to run", within: .seconds(30)) {
                let rows = try await observer.query(
                    """
                    SELECT count(*) FROM pg_stat_activity
                    WHERE state = 'active' AND pid <> pg_backend_pid() AND strpos(query, \(marker)) > 0
                    """)
                return try rows[0].decode((Int).self) > 0
            }
        }
    }

    /// Connections the server has open for an application name.
    static func backendCount(applicationName: String, using connection: PGConnection) async throws
        -> Int
    {
        let rows = try await connection.query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = \(applicationName)")
        return try rows[0].decode((Int).self)
    }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    let what: String
    let limit: Duration
    var description: String { "\(what) did not happen within \(limit)" }
}

/// A thread-safe counter for tests that count attempts or concurrent users.
final class Counter: Sendable {
    private let state = Mutex((value: 0, maximum: 0))

    @discardableResult
    func increment() -> Int {
        state.withLock { state in
            state.value += 1
            state.maximum = max(state.maximum, state.value)
            return state.value
        }
    }

    func decrement() {
        state.withLock { $0.value -= 1 }
    }

    var value: Int { state.withLock { $0.value } }
    /// The highest value ever reached.
    var maximum: Int { state.withLock { $0.maximum } }
}

/// Lets `parties` tasks wait for each other, so two transactions are sure to overlap.
actor Barrier {
    private let parties: Int
    private var arrived = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(parties: Int) {
        self.parties = parties
    }

    func arriveAndWait() async {
        arrived += 1
        if arrived >= parties {
            for continuation in waiting { continuation.resume() }
            waiting = []
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}
