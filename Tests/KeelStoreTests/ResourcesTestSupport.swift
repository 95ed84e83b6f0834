import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// Which content backend a parameterised resource test runs against.
enum ResourceBackendUnderTest: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case postgres, directory
    var testDescription: String { rawValue }
}

/// A resource store on a fresh migrated database, with the backend under test (the directory backend in a
/// temporary directory of its own, removed afterwards).
func withResourceStore(
    _ backend: ResourceBackendUnderTest, _ body: (ResourceStore, PGPool, String?) async throws -> Void
) async throws {
    try await withMigratedDatabase { pool in
        switch backend {
        case .postgres:
            try await body(ResourceStore(pool: pool, contents: PostgresContentStore(pool: pool)), pool, nil)
        case .directory:
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "keel-resources-\(UUID().uuidString)"
            ).path
            defer { try? FileManager.default.removeItem(atPath: root) }
            try await body(ResourceStore(pool: pool, contents: DirectoryContentStore(root: root)), pool, root)
        }
    }
}

/// Deterministic pseudo-random bytes (SplitMix64), generated chunk by chunk so no test holds a big
/// payload in memory; the chunk sizes vary with the seed so boundaries land everywhere.
struct GeneratedBytes: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let size: Int
    let seed: UInt64
    var maximumChunk = 256 * 1024

    static func bytes(size: Int, seed: UInt64) -> [UInt8] {
        var generator = ByteGenerator(seed: seed)
        return (0..<size).map { _ in generator.nextByte() }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(
            remaining: size, generator: ByteGenerator(seed: seed), sizes: ByteGenerator(seed: ~seed),
            maximumChunk: maximumChunk)
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: Int
        var generator: ByteGenerator
        var sizes: ByteGenerator
        let maximumChunk: Int

        mutating func next() async throws -> [UInt8]? {
            guard remaining > 0 else { return nil }
            let count = Swift.min(remaining, 1 + Int(sizes.next() % UInt64(maximumChunk)))
            remaining -= count
            return (0..<count).map { _ in generator.nextByte() }
        }
    }
}

/// SplitMix64, one byte at a time.
struct ByteGenerator: Sendable {
    var state: UInt64
    var word: UInt64 = 0
    var left = 0

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func nextByte() -> UInt8 {
        if left == 0 {
            word = next()
            left = 8
        }
        defer {
            word >>= 8
            left -= 1
        }
        return UInt8(truncatingIfNeeded: word)
    }
}

/// Given chunks, in order.
struct ChunkList: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let chunks: [[UInt8]]

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: chunks) }

    struct AsyncIterator: AsyncIteratorProtocol {
        let chunks: [[UInt8]]
        var index = 0
        mutating func next() async throws -> [UInt8]? {
            guard index < chunks.count else { return nil }
            defer { index += 1 }
            return chunks[index]
        }
    }
}

/// Chunks forever, announcing how many were produced, so a test can cancel an upload mid-stream.
struct EndlessBytes: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let produced: @Sendable (Int) -> Void

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(produced: produced) }

    struct AsyncIterator: AsyncIteratorProtocol {
        let produced: @Sendable (Int) -> Void
        var count = 0
        mutating func next() async throws -> [UInt8]? {
            count += 1
            produced(count)
            await Task.yield()
            return [UInt8](repeating: UInt8(truncatingIfNeeded: count), count: 256 * 1024)
        }
    }
}

extension ResourceStore {
    /// Reads a resource back whole (small test payloads only).
    func readAll(_ reference: ResourceReference) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in try await open(reference).chunks { bytes += chunk }
        return bytes
    }
}

/// Counts of what the stores hold, to check that nothing partial or duplicated is left.
struct StoreCounts: Equatable, CustomStringConvertible {
    var contents: Int
    var resources: Int
    var uploads: Int
    var chunkBlobs: Int
    var stagingFiles: Int
    var contentFiles: Int

    var description: String {
        "contents \(contents), resources \(resources), uploads \(uploads), chunk blobs \(chunkBlobs), "
            + "staging files \(stagingFiles), content files \(contentFiles)"
    }

    static func read(_ pool: PGPool, root: String?) async throws -> StoreCounts {
        let numbers = try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT (SELECT count(*) FROM resource_contents)::int8, (SELECT count(*) FROM resources)::int8,
                       (SELECT count(*) FROM resource_uploads)::int8,
                       (SELECT count(DISTINCT blob_id) FROM resource_chunks)::int8
                """
            ).first.map { row -> [Int] in
                let (contents, resources, uploads, blobs) = try row.decode((Int, Int, Int, Int).self)
                return [contents, resources, uploads, blobs]
            } ?? []
        }
        var staging = 0
        var files = 0
        if let root {
            let base = root + "/sha256"
            staging = ((try? FileManager.default.contentsOfDirectory(atPath: base + "/.uploads")) ?? []).count
            for directory in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
            where !directory.hasPrefix(".") {
                files +=
                    ((try? FileManager.default.contentsOfDirectory(atPath: base + "/" + directory)) ?? [])
                    .count
            }
        }
        return StoreCounts(
            contents: numbers[0], resources: numbers[1], uploads: numbers[2], chunkBlobs: numbers[3],
            stagingFiles: staging, contentFiles: files)
    }
}
