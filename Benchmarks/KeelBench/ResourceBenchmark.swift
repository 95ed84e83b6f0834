import CLibPQ
import Foundation
import KeelStore
import Logging
import PGClient

#if canImport(Glibc)
    import Glibc
#endif

/// Resource put and get throughput (MiB/s) for both content backends, each beside a raw baseline in the
/// same run: libpq inserting and selecting the same 1 MiB `bytea` chunks without hashing or staging, and
/// plain `read`/`write`/`fsync` of the same file. Runs in a scratch database it creates and drops.
enum ResourceBenchmark {
    /// Content size of each measured transfer.
    static let size = 256 << 20
    static let chunk = 1 << 20

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func run(databaseURL: String) async throws -> [BenchFigure] {
        var logger = Logger(label: "keel.bench.resources")
        logger.logLevel = .warning
        let scratchName =
            "keel_bench_res_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = PGPool(configuration: try PGConfiguration(url: databaseURL), size: 1, logger: logger)
        try await admin.withConnection { try await $0.execute("CREATE DATABASE \(unescaped: scratchName)") }
        var components = URLComponents(string: databaseURL)
        components?.path = "/" + scratchName
        let scratchURL = components?.string ?? databaseURL
        let pool = PGPool(configuration: try PGConfiguration(url: scratchURL), size: 2, logger: logger)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("keel-bench-res-\(getpid())")
            .path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        var figures: [BenchFigure] = []
        do {
            try await Migrator.bundled().migrate(pool: pool, logger: logger)
            let mib = Double(size) / Double(1 << 20)
            let workload = "\(size >> 20) MiB file, 1 MiB chunks, sequential, one transfer each"

            // PostgreSQL backend, then raw libpq on the same server.
            let pgSource = try makeFile(at: work + "/pg.bin", seed: 1)
            let pgStore = ResourceStore(pool: pool, contents: PostgresContentStore(pool: pool))
            let (pgPut, pgReference) = try await timed {
                try await pgStore.put(FileChunks(path: pgSource), description: ResourceDescription())
                    .reference
            }
            let (pgGet, _) = try await timed { try await drain(pgStore.open(pgReference).chunks) }
            let raw = try RawBlobs(url: scratchURL)
            defer { raw.close() }
            let rawPut = try raw.put(file: pgSource)
            let rawGet = try raw.get()
            figures.append(
                BenchFigure(
                    name: "resource put MiB/s (postgres)", swift: mib / pgPut, raw: mib / rawPut,
                    workload: workload + "; raw: libpq INSERT of bytea chunks, no hashing or staging"))
            figures.append(
                BenchFigure(
                    name: "resource get MiB/s (postgres)", swift: mib / pgGet, raw: mib / rawGet,
                    workload: workload + "; raw: libpq SELECT of each bytea chunk"))

            // Directory backend, then plain file I/O on the same disk.
            let dirSource = try makeFile(at: work + "/dir.bin", seed: 2)
            let directory = DirectoryContentStore(root: work + "/store")
            let dirStore = ResourceStore(pool: pool, contents: directory)
            let (dirPut, dirReference) = try await timed {
                try await dirStore.put(FileChunks(path: dirSource), description: ResourceDescription())
                    .reference
            }
            let (dirGet, _) = try await timed { try await drain(dirStore.open(dirReference).chunks) }
            let rawFilePut = try rawCopy(from: dirSource, to: work + "/raw-copy.bin")
            let rawFileGet = try rawRead(work + "/raw-copy.bin")
            figures.append(
                BenchFigure(
                    name: "resource put MiB/s (directory)", swift: mib / dirPut, raw: mib / rawFilePut,
                    workload: workload + "; raw: read + write + fsync, no hashing"))
            figures.append(
                BenchFigure(
                    name: "resource get MiB/s (directory)", swift: mib / dirGet, raw: mib / rawFileGet,
                    workload: workload + "; raw: read(2) of the file"))
        } catch {
            await pool.close()
            _ = try? await admin.withConnection {
                try await $0.execute("DROP DATABASE IF EXISTS \(unescaped: scratchName) WITH (FORCE)")
            }
            await admin.close()
            throw error
        }
        await pool.close()
        try await dropPatiently(scratchName, admin: admin)
        await admin.close()
        return figures
    }

    /// Drops the scratch database, waiting while autovacuum (which DROP ... WITH (FORCE) may not end
    /// for a non-superuser) still works through the chunks just written.
    static func dropPatiently(_ name: String, admin: PGPool) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            do {
                try await admin.withConnection {
                    try await $0.execute("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)")
                }
                return
            } catch let error as PGError where error.sqlState == "42501" && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    static func timed<T>(_ body: () async throws -> T) async throws -> (Double, T) {
        let started = ContinuousClock.now
        let value = try await body()
        return ((ContinuousClock.now - started).benchSeconds, value)
    }

    static func drain(_ chunks: ResourceChunks) async throws -> Int {
        var total = 0
        for try await chunk in chunks { total += chunk.count }
        return total
    }

    /// Deterministic content, written in 1 MiB blocks.
    static func makeFile(at path: String, seed: UInt64) throws -> String {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var block = [UInt8](repeating: 0, count: chunk)
        for index in block.indices {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            block[index] = UInt8(truncatingIfNeeded: state)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Failure(description: "cannot create \(path)") }
        defer { close(fd) }
        for number in 0..<(size / chunk) {
            block[0] = UInt8(truncatingIfNeeded: number)
            block[1] = UInt8(truncatingIfNeeded: number >> 8)
            guard block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == chunk else {
                throw Failure(description: "cannot write \(path)")
            }
        }
        return path
    }

    static func readBlock(_ fd: Int32, into buffer: inout [UInt8]) -> Int {
        buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    }

    static func rawCopy(from source: String, to target: String) throws -> Double {
        let started = ContinuousClock.now
        let input = open(source, O_RDONLY)
        let output = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer {
            close(input)
            close(output)
        }
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = readBlock(input, into: &buffer)
            guard n > 0 else { break }
            _ = buffer.withUnsafeBytes { write(output, $0.baseAddress, n) }
        }
        fsync(output)
        return (ContinuousClock.now - started).benchSeconds
    }

    static func rawRead(_ path: String) throws -> Double {
        let started = ContinuousClock.now
        let input = open(path, O_RDONLY)
        defer { close(input) }
        var buffer = [UInt8](repeating: 0, count: chunk)
        while readBlock(input, into: &buffer) > 0 {}
        return (ContinuousClock.now - started).benchSeconds
    }

    /// The baseline: libpq directly, 1 MiB bytea chunks in binary, into a plain table.
    final class RawBlobs {
        private let connection: OpaquePointer

        init(url: String) throws {
            guard let connection = PQconnectdb(url), PQstatus(connection) == CONNECTION_OK else {
                throw Failure(description: "raw libpq connection failed")
            }
            self.connection = connection
            try exec("CREATE TABLE bench_blobs (seq integer PRIMARY KEY, data bytea NOT NULL)")
        }

        func exec(_ sql: String) throws {
            let result = PQexec(connection, sql)
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_COMMAND_OK else {
                throw Failure(
                    description: "raw statement failed: \(String(cString: PQerrorMessage(connection)))")
            }
        }

        func put(file: String) throws -> Double {
            let started = ContinuousClock.now
            let input = open(file, O_RDONLY)
            defer { Glibc.close(input) }
            var buffer = [UInt8](repeating: 0, count: ResourceBenchmark.chunk)
            var seq: Int32 = 0
            while true {
                let n = ResourceBenchmark.readBlock(input, into: &buffer)
                guard n > 0 else { break }
                var seqBigEndian = seq.bigEndian
                let result = withUnsafeBytes(of: &seqBigEndian) { seqBytes in
                    buffer.withUnsafeBytes { data in
                        let values: [UnsafePointer<CChar>?] = [
                            seqBytes.baseAddress?.assumingMemoryBound(to: CChar.self),
                            data.baseAddress?.assumingMemoryBound(to: CChar.self),
                        ]
                        let lengths: [Int32] = [4, Int32(n)]
                        let formats: [Int32] = [1, 1]
                        let types: [UInt32] = [23, 17]
                        return PQexecParams(
                            connection, "INSERT INTO bench_blobs (seq, data) VALUES ($1, $2)", 2, types,
                            values,
                            lengths, formats, 1)
                    }
                }
                defer { PQclear(result) }
                guard PQresultStatus(result) == PGRES_COMMAND_OK else {
                    throw Failure(
                        description: "raw INSERT failed: \(String(cString: PQerrorMessage(connection)))")
                }
                seq += 1
            }
            return (ContinuousClock.now - started).benchSeconds
        }

        func get() throws -> Double {
            let started = ContinuousClock.now
            var seq: Int32 = 0
            var total = 0
            while true {
                var seqBigEndian = seq.bigEndian
                let result = withUnsafeBytes(of: &seqBigEndian) { seqBytes in
                    let values: [UnsafePointer<CChar>?] = [
                        seqBytes.baseAddress?.assumingMemoryBound(to: CChar.self)
                    ]
                    let lengths: [Int32] = [4]
                    let formats: [Int32] = [1]
                    let types: [UInt32] = [23]
                    return PQexecParams(
                        connection, "SELECT data FROM bench_blobs WHERE seq = $1", 1, types, values, lengths,
                        formats, 1)
                }
                defer { PQclear(result) }
                guard PQresultStatus(result) == PGRES_TUPLES_OK else {
                    throw Failure(
                        description: "raw SELECT failed: \(String(cString: PQerrorMessage(connection)))")
                }
                guard PQntuples(result) == 1 else { break }
                // Copy the value out, as any client handing bytes to its caller must.
                let length = Int(PQgetlength(result, 0, 0))
                let bytes = [UInt8](
                    UnsafeRawBufferPointer(start: PQgetvalue(result, 0, 0), count: length))
                total += bytes.count
                seq += 1
            }
            return (ContinuousClock.now - started).benchSeconds
        }

        func close() {
            PQfinish(connection)
        }
    }
}

extension Duration {
    fileprivate var benchSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
