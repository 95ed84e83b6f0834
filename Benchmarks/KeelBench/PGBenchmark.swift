import CLibPQ
import Foundation
import Logging
import PGClient

/// Single-row autocommit INSERTs on one connection, sequentially: through PGClient (a bare
/// `PGConnection`, and a `PGPool` borrowing per statement) and through raw libpq `PQexecParams`,
/// against the same server in the same run. The variants alternate in small blocks of statements so
/// that load from other processes (compilers, other databases' fsyncs) affects them alike.
enum PGBenchmark {
    /// How long each variant should run in total.
    static let targetSeconds = 4.0
    /// Statements per block; variants take turns block by block.
    static let block = 25

    struct Failure: Error, CustomStringConvertible {
        let description: String
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
            "CREATE TABLE IF NOT EXISTS bench_pg (id bigserial PRIMARY KEY, v bigint NOT NULL); TRUNCATE bench_pg"
        )

        // Warm up, then size the run from the raw rate so each variant takes about `targetSeconds`.
        _ = try raw.insert(count: 200, startingAt: 0)
        _ = try await insert(count: 200, on: connection)
        let probe = try raw.insert(count: 500, startingAt: 0)
        let blocks = max(8, Int(targetSeconds * 500 / probe / Double(block)))

        var rawSeconds = 0.0
        var connectionSeconds = 0.0
        var poolSeconds = 0.0
        var borrowedSeconds = 0.0
        for index in 0..<blocks {
            rawSeconds += try raw.insert(count: block, startingAt: index * block)
            connectionSeconds += try await insert(count: block, on: connection)
            poolSeconds += try await insert(count: block, through: pool)
            borrowedSeconds += try await pool.withConnection { try await insert(count: block, on: $0) }
        }
        let total = Double(blocks * block)

        // Statement round trips without a commit to wait for: the client's own cost per statement.
        var rawTripSeconds = 0.0
        var tripSeconds = 0.0
        var borrowedTripSeconds = 0.0
        for _ in 0..<blocks {
            rawTripSeconds += try raw.selectOne(count: block * 4)
            tripSeconds += try await selectOne(count: block * 4, on: connection)
            borrowedTripSeconds += try await pool.withConnection {
                try await selectOne(count: block * 4, on: $0)
            }
        }
        let trips = blocks * block * 4

        try await connection.executeScript("DROP TABLE bench_pg")
        await pool.close()
        await connection.close()

        let workload =
            "autocommit INSERT INTO bench_pg(v) VALUES ($1), 1 connection, sequential, "
            + "\(blocks * block) rows per variant, variants alternating every \(block) rows"
        let tripWorkload =
            "SELECT 1, 1 connection, sequential, \(trips) statements, alternating every \(block * 4)"
        return [
            BenchFigure(
                name: "pg single-row commits/s (PGConnection)", swift: total / connectionSeconds,
                raw: total / rawSeconds, workload: workload),
            BenchFigure(
                name: "pg single-row commits/s (PGPool.withConnection per INSERT)",
                swift: total / poolSeconds,
                raw: total / rawSeconds, workload: workload),
            BenchFigure(
                name: "pg single-row commits/s (all INSERTs in one PGPool.withConnection)",
                swift: total / borrowedSeconds, raw: total / rawSeconds, workload: workload),
            BenchFigure(
                name: "pg SELECT 1 round trips/s (PGConnection)", swift: Double(trips) / tripSeconds,
                raw: Double(trips) / rawTripSeconds, workload: tripWorkload),
            BenchFigure(
                name: "pg SELECT 1 round trips/s (all in one PGPool.withConnection)",
                swift: Double(trips) / borrowedTripSeconds, raw: Double(trips) / rawTripSeconds,
                workload: tripWorkload),
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

    /// Seconds taken for `count` round trips of `SELECT 1` through a `PGConnection`.
    static func selectOne(count: Int, on connection: PGConnection) async throws -> Double {
        let started = ContinuousClock.now
        for _ in 0..<count {
            try await connection.execute("SELECT 1")
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
                    let values: [UnsafePointer<CChar>?] = [
                        bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
                    ]
                    return PQexecParams(connection, sql, 1, types, values, lengths, formats, 1)
                }
                defer { PQclear(result) }
                guard PQresultStatus(result) == PGRES_COMMAND_OK else {
                    throw Failure(
                        description: "raw INSERT failed: \(String(cString: PQerrorMessage(connection)))")
                }
            }
            return (ContinuousClock.now - started).seconds
        }

        func selectOne(count: Int) throws -> Double {
            let started = ContinuousClock.now
            for _ in 0..<count {
                let result = PQexecParams(connection, "SELECT 1", 0, nil, nil, nil, nil, 1)
                defer { PQclear(result) }
                guard PQresultStatus(result) == PGRES_TUPLES_OK else {
                    throw Failure(
                        description: "raw SELECT failed: \(String(cString: PQerrorMessage(connection)))")
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
