import CLibPQ
import Foundation
import Logging
import PGClient

/// Single-row autocommit INSERTs on one connection, sequentially: through PGClient (a bare
/// `PGConnection`, and a `PGPool` borrowing per statement) and through raw libpq `PQexecParams`,
/// against the same server in the same run. Rounds alternate between the two so that load from
/// other processes on the machine affects both alike.
enum PGBenchmark {
    /// How long each variant should run in total.
    static let targetSeconds = 4.0
    static let rounds = 4

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// `KEEL_DATABASE_URL` from the environment, else from `.keel/env` in the current directory.
    static func databaseURL() -> String? {
        if let url = ProcessInfo.processInfo.environment["KEEL_DATABASE_URL"], !url.isEmpty { return url }
        let stateDirectory = ProcessInfo.processInfo.environment["KEEL_STATE_DIR"] ?? ".keel"
        guard let text = try? String(contentsOfFile: stateDirectory + "/env", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("KEEL_DATABASE_URL=") {
            return String(line.dropFirst("KEEL_DATABASE_URL=".count))
        }
        return nil
    }

    static func run(databaseURL: String) async throws -> [BenchFigure] {
        var configuration = try PGConfiguration(url: databaseURL)
        configuration.applicationName = "keel-bench"
        var logger = Logger(label: "keel.bench.pg")
        logger.logLevel = .warning
        let connection = try await PGConnection.connect(configuration, logger: logger)
        let pool = PGPool(configuration: configuration, size: 1, logger: logger)
        let raw = try RawConnection(url: databaseURL)
        defer { raw.close() }

        try await connection.executeScript(
            "CREATE TABLE IF NOT EXISTS bench_pg (id bigserial PRIMARY KEY, v bigint NOT NULL); TRUNCATE bench_pg")

        // Warm up, then size the run from the raw rate so each variant takes about `targetSeconds`.
        _ = try raw.insert(count: 200, startingAt: 0)
        _ = try await insert(count: 200, on: connection)
        let probe = try raw.insert(count: 500, startingAt: 0)
        let perRound = max(200, Int(targetSeconds * 500 / probe / Double(rounds)))

        if ProcessInfo.processInfo.environment["KEEL_BENCH_PG_ROUNDTRIP"] != nil {
            let n = 5000
            var t0 = ContinuousClock.now
            for _ in 0..<n { PQclear(PQexecParams(raw.raw, "SELECT 1", 0, nil, nil, nil, nil, 1)) }
            let rawRT = (ContinuousClock.now - t0).seconds
            t0 = ContinuousClock.now
            for _ in 0..<n { try await connection.execute("SELECT 1") }
            let swiftRT = (ContinuousClock.now - t0).seconds
            print("roundtrip us raw", rawRT / Double(n) * 1e6, "swift", swiftRT / Double(n) * 1e6)
        }
        var rawSeconds = 0.0
        var connectionSeconds = 0.0
        var poolSeconds = 0.0
        for round in 0..<rounds {
            rawSeconds += try raw.insert(count: perRound, startingAt: round * perRound)
            connectionSeconds += try await insert(count: perRound, on: connection)
            poolSeconds += try await insert(count: perRound, through: pool)
        }
        let total = Double(perRound * rounds)

        try await connection.executeScript("DROP TABLE bench_pg")
        await pool.close()
        await connection.close()

        let workload =
            "autocommit INSERT INTO bench_pg(v) VALUES ($1), 1 connection, sequential, "
            + "\(perRound * rounds) rows per variant in \(rounds) alternating rounds"
        return [
            BenchFigure(
                name: "pg single-row commits/s (PGConnection)", swift: total / connectionSeconds,
                raw: total / rawSeconds, workload: workload),
            BenchFigure(
                name: "pg single-row commits/s (PGPool.withConnection)", swift: total / poolSeconds,
                raw: total / rawSeconds, workload: workload),
        ]
    }

    /// Seconds taken for `count` INSERTs through a `PGConnection`.
    static func insert(count: Int, on connection: PGConnection) async throws -> Double {
        let started = ContinuousClock.now
        for value in 0..<count {
            try await connection.execute("INSERT INTO bench_pg(v) VALUES (\(value))")
        }
        return (ContinuousClock.now - started).seconds
    }

    /// Seconds taken for `count` INSERTs, each borrowing the connection from a pool.
    static func insert(count: Int, through pool: PGPool) async throws -> Double {
        let started = ContinuousClock.now
        for value in 0..<count {
            try await pool.withConnection { connection in
                try await connection.execute("INSERT INTO bench_pg(v) VALUES (\(value))")
            }
        }
        return (ContinuousClock.now - started).seconds
    }

    /// The baseline: libpq called directly, parameters and results in binary like PGClient.
    final class RawConnection {
        private let connection: OpaquePointer
        var raw: OpaquePointer { connection }

        init(url: String) throws {
            guard let connection = PQconnectdb(url), PQstatus(connection) == CONNECTION_OK else {
                throw Failure(description: "raw libpq connection failed")
            }
            self.connection = connection
        }

        func insert(count: Int, startingAt first: Int) throws -> Double {
            let sql = "INSERT INTO bench_pg(v) VALUES ($1)"
            let types: [UInt32] = [20]
            let lengths: [Int32] = [8]
            let formats: [Int32] = [1]
            let started = ContinuousClock.now
            for value in first..<(first + count) {
                var bigEndian = Int64(value).bigEndian
                let result = withUnsafeBytes(of: &bigEndian) { bytes in
                    let values: [UnsafePointer<CChar>?] = [bytes.baseAddress?.assumingMemoryBound(to: CChar.self)]
                    return PQexecParams(connection, sql, 1, types, values, lengths, formats, 1)
                }
                defer { PQclear(result) }
                guard PQresultStatus(result) == PGRES_COMMAND_OK else {
                    throw Failure(description: "raw INSERT failed: \(String(cString: PQerrorMessage(connection)))")
                }
            }
            return (ContinuousClock.now - started).seconds
        }

        func close() {
            PQfinish(connection)
        }
    }
}

extension Duration {
    fileprivate var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
