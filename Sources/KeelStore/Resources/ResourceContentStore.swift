public import Foundation
public import PGClient

/// Where content bytes go: written under a staging name while they stream and are hashed, made visible
/// in the caller's transaction only after the hash verified, read back chunk by chunk.
///
/// The metadata row in `resource_contents` is the one switch that makes content visible; `ResourceStore`
/// inserts and locks it. A backend only moves bytes.
public protocol ResourceContentStore: Sendable {
    var backend: ResourceBackendKind { get }

    /// Writes `chunks` to a staging place, hashing them; on any error (cancellation included) the staged
    /// bytes are removed before the error is rethrown.
    func stage<Chunks: AsyncSequence>(_ chunks: Chunks) async throws -> StagedContent
    where Chunks.Element == [UInt8]

    /// Makes staged content the content of its SHA-256, inside the caller's transaction, which holds the
    /// new `resource_contents` row. Safe to repeat (a retried transaction runs it again).
    func promote(_ staged: StagedContent, on connection: PGConnection) async throws

    /// Removes staged bytes that will not be promoted (the content was already stored, or the hash was
    /// wrong). Best effort: what it cannot remove, `keel resource gc` does later.
    func discard(_ staged: StagedContent) async

    /// The content's bytes, read lazily chunk by chunk.
    func chunks(of content: StoredContent) -> ResourceChunks

    /// Deletes the content's bytes inside the caller's transaction, which has locked and deleted its
    /// `resource_contents` row. Returns what to do after COMMIT succeeded (`true`) or failed (`false`).
    func remove(_ content: StoredContent, on connection: PGConnection) async throws
        -> @Sendable (Bool) async -> Void

    /// Removes staging left behind by uploads that were killed before `started` (never running ones).
    func removeAbandonedUploads(startedBefore started: Date, pool: PGPool) async throws -> Int
}

/// Bytes written and hashed but not yet visible.
public struct StagedContent: Sendable, Hashable {
    public let sha256: String
    public let size: Int64
    /// The chunks' blob id (PostgreSQL backend) or the staging file's path (directory backend).
    let blobID: UUID?
    let stagingPath: String?
}

/// Where stored content is, as recorded in `resource_contents`.
public struct StoredContent: Sendable, Hashable {
    public let sha256: String
    public let size: Int64
    public let backend: ResourceBackendKind
    let blobID: UUID?
}
