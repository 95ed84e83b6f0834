public import Foundation
import KeelCore
public import PGClient

/// Content as chunks of `bytea` in `resource_chunks`, at most `chunkSize` bytes each.
///
/// An upload registers a fresh blob id in `resource_uploads`, then inserts one chunk per statement as the
/// bytes arrive, so the process holds one chunk at a time. Promotion deletes the upload row in the
/// transaction that inserts the `resource_contents` row pointing at the blob: until then no reader can
/// reach the chunks. A killed upload leaves an upload row and chunks that `keel resource gc` removes.
public struct PostgresContentStore: ResourceContentStore {
    public let pool: PGPool
    public let chunkSize: Int
    public var backend: ResourceBackendKind { .postgres }

    /// 1 MiB.
    public static let defaultChunkSize = 1 << 20

    public init(pool: PGPool, chunkSize: Int = PostgresContentStore.defaultChunkSize) {
        self.pool = pool
        self.chunkSize = chunkSize
    }

    public func stage<Chunks: AsyncSequence>(_ chunks: Chunks) async throws -> StagedContent
    where Chunks.Element == [UInt8] {
        let blobID = UUID()
        try await pool.withConnection { connection in
            try await connection.execute("INSERT INTO resource_uploads (blob_id) VALUES (\(blobID))")
        }
        do {
            var hasher = ContentHasher()
            var buffer: [UInt8] = []
            buffer.reserveCapacity(chunkSize)
            var seq: Int32 = 0
            for try await chunk in chunks {
                try Task.checkCancellation()
                var offset = 0
                while offset < chunk.count {
                    let take = min(chunkSize - buffer.count, chunk.count - offset)
                    buffer.append(contentsOf: chunk[offset..<(offset + take)])
                    offset += take
                    if buffer.count == chunkSize {
                        try await store(buffer, seq: seq, blobID: blobID, hasher: &hasher)
                        seq += 1
                        buffer.removeAll(keepingCapacity: true)
                    }
                }
            }
            if !buffer.isEmpty {
                try await store(buffer, seq: seq, blobID: blobID, hasher: &hasher)
            }
            try Task.checkCancellation()
            return StagedContent(
                sha256: hasher.finalize(), size: hasher.byteCount, blobID: blobID, stagingPath: nil)
        } catch {
            await deleteBlob(blobID)
            throw error
        }
    }

    /// Inserts one chunk and hashes it meanwhile: the two costs overlap instead of adding up.
    private func store(_ chunk: [UInt8], seq: Int32, blobID: UUID, hasher: inout ContentHasher) async throws {
        async let inserted: Void = insertChunk(blobID: blobID, seq: seq, data: chunk)
        hasher.update(chunk)
        try await inserted
    }

    private func insertChunk(blobID: UUID, seq: Int32, data: [UInt8]) async throws {
        try await pool.withConnection { connection in
            try await connection.execute(
                "INSERT INTO resource_chunks (blob_id, seq, data) VALUES (\(blobID), \(seq), \(data))")
        }
    }

    public func promote(_ staged: StagedContent, on connection: PGConnection) async throws {
        guard let blobID = staged.blobID else { return }
        try await connection.execute("DELETE FROM resource_uploads WHERE blob_id = \(blobID)")
    }

    public func discard(_ staged: StagedContent) async {
        guard let blobID = staged.blobID else { return }
        await deleteBlob(blobID)
    }

    /// Deletes an unpromoted blob, even when the calling Task was cancelled (this is its cleanup).
    private func deleteBlob(_ blobID: UUID) async {
        let pool = pool
        let cleanup = Task.detached {
            try await pool.withTransaction { connection in
                try await connection.execute(
                    """
                    DELETE FROM resource_chunks WHERE blob_id = \(blobID)
                    AND NOT EXISTS (SELECT 1 FROM resource_contents WHERE blob_id = \(blobID))
                    """)
                try await connection.execute("DELETE FROM resource_uploads WHERE blob_id = \(blobID)")
            }
        }
        _ = try? await cleanup.value
    }

    public func chunks(of content: StoredContent) -> ResourceChunks {
        let pool = pool
        return ResourceChunks { Reader(pool: pool, content: content) }
    }

    struct Reader: ResourceChunkReader {
        let pool: PGPool
        let content: StoredContent
        var seq: Int32 = 0
        var delivered: Int64 = 0

        mutating func next() async throws -> [UInt8]? {
            guard let blobID = content.blobID else {
                throw ResourceStoreError.contentDamaged(sha256: content.sha256, detail: "no blob id")
            }
            let seq = seq
            let data = try await pool.withConnection { connection in
                try await connection.query(
                    "SELECT data FROM resource_chunks WHERE blob_id = \(blobID) AND seq = \(seq)"
                ).first?.decode(([UInt8]).self)
            }
            guard let data else {
                guard delivered == content.size else {
                    throw ResourceStoreError.contentDamaged(
                        sha256: content.sha256,
                        detail: "chunk \(seq) missing after \(delivered) of \(content.size) bytes")
                }
                return nil
            }
            self.seq += 1
            delivered += Int64(data.count)
            return data
        }
    }

    public func remove(_ content: StoredContent, on connection: PGConnection) async throws
        -> @Sendable (Bool) async -> Void
    {
        if let blobID = content.blobID {
            try await connection.execute("DELETE FROM resource_chunks WHERE blob_id = \(blobID)")
        }
        return { _ in }
    }

    public func removeAbandonedUploads(startedBefore started: Date, pool: PGPool) async throws -> Int {
        try await pool.withTransaction { connection in
            let rows = try await connection.query(
                "DELETE FROM resource_uploads WHERE started_at < \(started) RETURNING blob_id")
            let blobs = try rows.map { try $0.decode((UUID).self) }
            if !blobs.isEmpty {
                try await connection.execute(
                    """
                    DELETE FROM resource_chunks WHERE blob_id = ANY(\(blobs))
                    AND NOT EXISTS (SELECT 1 FROM resource_contents c WHERE c.blob_id = resource_chunks.blob_id)
                    """)
            }
            return blobs.count
        }
    }
}
