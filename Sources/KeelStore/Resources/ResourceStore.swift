import Foundation
public import KeelCore
public import PGClient
import Metrics

/// Resources: content stored once by SHA-256 in a content backend, and the metadata rows that name it.
///
/// `put` streams bytes into the configured backend, verifies them, and in one transaction inserts (or
/// locks) the content row, promotes the staged bytes if they are new, and inserts the resource row, so
/// content is never visible before it is complete, and collection can never delete content between its
/// upload and the row that references it. Reads dispatch on the backend recorded for the content.
public struct ResourceStore: Sendable {
    public let pool: PGPool
    /// Where new content is written.
    public let contents: any ResourceContentStore
    /// The directory backend, when configured, for reading content stored there.
    let directory: DirectoryContentStore?

    public init(pool: PGPool, contents: any ResourceContentStore, directory: DirectoryContentStore? = nil) {
        self.pool = pool
        self.contents = contents
        self.directory = directory ?? (contents as? DirectoryContentStore)
    }

    /// The store a configuration asks for.
    public init(pool: PGPool, configuration: ResourceConfiguration) throws {
        let directory = configuration.directory.map { DirectoryContentStore(root: $0) }
        switch configuration.backend {
        case .directory:
            guard let directory else { throw ResourceStoreError.backendUnavailable(.directory) }
            self.init(pool: pool, contents: directory, directory: directory)
        case .postgres:
            self.init(pool: pool, contents: PostgresContentStore(pool: pool), directory: directory)
        }
    }

    func store(for backend: ResourceBackendKind) throws -> any ResourceContentStore {
        switch backend {
        case .postgres:
            if let store = contents as? PostgresContentStore { return store }
            return PostgresContentStore(pool: pool)
        case .directory:
            guard let directory else { throw ResourceStoreError.backendUnavailable(.directory) }
            return directory
        }
    }

    /// Streams `chunks` into the store and records a resource naming them.
    ///
    /// - Parameters:
    ///   - expectedSHA256: when given, content that hashes differently is refused and nothing is kept.
    ///   - redactor: applied to `text/*` content before it is hashed and stored.
    public func put<Chunks: AsyncSequence>(
        _ chunks: Chunks, description: ResourceDescription, expectedSHA256: String? = nil,
        redactor: SecretRedactor? = nil
    ) async throws -> ResourceRecord where Chunks.Element == [UInt8] {
        guard ResourceMediaType.isValid(description.mediaType) else {
            throw ResourceStoreError.invalidMediaType(description.mediaType)
        }
        let staged: StagedContent
        if let redactor, !redactor.isEmpty, ResourceMediaType.isText(description.mediaType) {
            staged = try await contents.stage(RedactedChunks(base: chunks, redactor: redactor))
        } else {
            staged = try await contents.stage(chunks)
        }
        if let expectedSHA256, expectedSHA256.lowercased() != staged.sha256 {
            await contents.discard(staged)
            throw ResourceStoreError.digestMismatch(expected: expectedSHA256, actual: staged.sha256)
        }
        do {
            let (record, promoted) = try await record(staged, description: description)
            if !promoted { await contents.discard(staged) }
            // What producers handed over, including content already stored once (kept a single time).
            Counter(
                label: "keel_resource_bytes_stored_total",
                dimensions: [("backend", contents.backend.rawValue)]
            )
            .increment(by: Int(clamping: staged.size))
            return record
        } catch {
            await contents.discard(staged)
            throw error
        }
    }

    /// Stores `bytes` held in memory (small payloads: inline overflow, callback bodies).
    public func put(
        bytes: [UInt8], description: ResourceDescription, redactor: SecretRedactor? = nil
    ) async throws -> ResourceRecord {
        try await put(SingleChunk(bytes: bytes), description: description, redactor: redactor)
    }

    /// Inserts or locks the content row, promotes the staged bytes when they are new, inserts the resource.
    private func record(
        _ staged: StagedContent, description: ResourceDescription
    ) async throws -> (ResourceRecord, promoted: Bool) {
        let contents = contents
        let backend = contents.backend.rawValue
        let id = UUID()
        return try await pool.withTransaction { connection in
            // DO UPDATE (not DO NOTHING) so an existing row is locked until COMMIT: collection, which
            // locks the row before deleting it, cannot remove content this transaction is referencing.
            let row = try await connection.query(
                """
                INSERT INTO resource_contents (sha256, size, backend, blob_id)
                VALUES (\(staged.sha256), \(staged.size), \(backend), \(staged.blobID))
                ON CONFLICT (sha256) DO UPDATE SET sha256 = EXCLUDED.sha256
                RETURNING (xmax = 0) AS inserted, backend
                """)
            guard let row = row.first else {
                throw PGError(code: .protocolViolation, message: "INSERT ... RETURNING returned no row")
            }
            let (inserted, backendName) = try row.decode((Bool, String).self)
            let storedBackend = ResourceBackendKind(rawValue: backendName) ?? .postgres
            if inserted { try await contents.promote(staged, on: connection) }
            let runID = description.producer?.runID
            let step = description.producer?.step
            let attempt = description.producer?.attempt
            let created = try await connection.query(
                """
                INSERT INTO resources (id, sha256, name, media_type, size, run_id, step, attempt, retention)
                VALUES (\(id), \(staged.sha256), \(description.name), \(description.mediaType), \(staged.size),
                        \(runID), \(step), \(attempt), \(description.retention.rawValue))
                RETURNING created_at
                """
            ).first?.decode((Date).self)
            let record = ResourceRecord(
                id: id, reference: try Self.reference(staged.sha256), name: description.name,
                mediaType: description.mediaType, size: staged.size, producer: description.producer,
                retention: description.retention, createdAt: created ?? Date(), backend: storedBackend)
            return (record, inserted)
        }
    }

    /// The newest resource naming this content, and where the content is.
    public func show(_ reference: ResourceReference) async throws -> ResourceRecord {
        try await pool.withConnection { connection in
            let rows = try await connection.query(
                """
                \(unescaped: Self.recordColumns) WHERE r.sha256 = \(reference.sha256)
                ORDER BY r.created_at DESC, r.id LIMIT 1
                """)
            guard let row = rows.first else { throw ResourceStoreError.unknownReference(reference) }
            return try Self.record(row)
        }
    }

    /// Every resource naming this content, newest first.
    public func names(of reference: ResourceReference) async throws -> [ResourceRecord] {
        try await pool.withConnection { connection in
            try await connection.query(
                "\(unescaped: Self.recordColumns) WHERE r.sha256 = \(reference.sha256) ORDER BY r.created_at DESC, r.id"
            ).map(Self.record)
        }
    }

    /// The resources a run produced, oldest first.
    public func list(run runID: RunID) async throws -> [ResourceRecord] {
        try await pool.withConnection { connection in
            try await connection.query(
                "\(unescaped: Self.recordColumns) WHERE r.run_id = \(runID) ORDER BY r.created_at, r.id"
            ).map(Self.record)
        }
    }

    /// The content's size and bytes, streamed chunk by chunk.
    public func open(_ reference: ResourceReference) async throws -> (
        content: StoredContent, chunks: ResourceChunks
    ) {
        let content = try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT c.sha256, c.size, c.backend, c.blob_id FROM resource_contents c
                WHERE c.sha256 = \(reference.sha256) AND EXISTS (SELECT 1 FROM resources r WHERE r.sha256 = c.sha256)
                """
            ).first.map(Self.content)
        }
        guard let content else { throw ResourceStoreError.unknownReference(reference) }
        let chunks = try store(for: content.backend).chunks(of: content)
        // Counted when opened: a reader that stops early still had the content handed to it.
        Counter(
            label: "keel_resource_bytes_fetched_total", dimensions: [("backend", content.backend.rawValue)]
        )
        .increment(by: Int(clamping: content.size))
        return (content, chunks)
    }

    static let recordColumns = """
        SELECT r.id, r.sha256, r.name, r.media_type, r.size, r.run_id, r.step, r.attempt, r.retention,
               r.created_at, c.backend
        FROM resources r JOIN resource_contents c ON c.sha256 = r.sha256
        """

    static func record(_ row: PGRow) throws -> ResourceRecord {
        let (id, sha256, name, mediaType, size, runID, step, attempt, retention, createdAt, backend) =
            try row.decode(
                (UUID, String, String?, String, Int64, RunID?, String?, Int?, String, Date, String).self)
        return ResourceRecord(
            id: id, reference: try reference(sha256), name: name, mediaType: mediaType, size: size,
            producer: runID.map { ResourceProducer(runID: $0, step: step, attempt: attempt) },
            retention: ResourceRetention(rawValue: retention) ?? .standard, createdAt: createdAt,
            backend: ResourceBackendKind(rawValue: backend) ?? .postgres)
    }

    static func content(_ row: PGRow) throws -> StoredContent {
        let (sha256, size, backend, blobID) = try row.decode((String, Int64, String, UUID?).self)
        return StoredContent(
            sha256: sha256, size: size, backend: ResourceBackendKind(rawValue: backend) ?? .postgres,
            blobID: blobID)
    }

    static func reference(_ sha256: String) throws -> ResourceReference {
        guard let reference = ResourceReference(sha256: sha256) else {
            throw PGError(code: .decoding, message: "resources.sha256 is not a SHA-256 hex digest")
        }
        return reference
    }
}

/// One in-memory buffer as a one-chunk sequence.
struct SingleChunk: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let bytes: [UInt8]

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(bytes: bytes) }

    struct AsyncIterator: AsyncIteratorProtocol {
        var bytes: [UInt8]?
        mutating func next() async throws -> [UInt8]? {
            defer { bytes = nil }
            return bytes
        }
    }
}
