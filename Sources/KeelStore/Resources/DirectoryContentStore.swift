public import Foundation
import KeelCore
public import PGClient

#if canImport(Glibc)
    import Glibc
#endif

/// Content as files under a local directory: `<root>/sha256/<first two hex digits>/<sha256>`.
///
/// An upload streams into `<root>/sha256/.uploads/<uuid>.part` (same file system, so the final rename is
/// atomic), is fsynced, and is renamed into place by `promote` inside the transaction that inserts its
/// `resource_contents` row; the containing directory is fsynced too. A reader therefore sees a complete
/// file or none. Collection renames a file into `.trash/` while it holds the row lock and unlinks it
/// only after COMMIT, putting it back if the COMMIT failed.
public struct DirectoryContentStore: ResourceContentStore {
    public let root: String
    public let chunkSize: Int
    public var backend: ResourceBackendKind { .directory }

    public init(root: String, chunkSize: Int = 1 << 20) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        self.chunkSize = chunkSize
    }

    var contentRoot: String { root + "/sha256" }
    var uploadsDirectory: String { contentRoot + "/.uploads" }
    var trashDirectory: String { contentRoot + "/.trash" }

    /// The file holding content with this SHA-256.
    public func path(of sha256: String) -> String {
        "\(contentRoot)/\(sha256.prefix(2))/\(sha256)"
    }

    public func stage<Chunks: AsyncSequence>(_ chunks: Chunks) async throws -> StagedContent
    where Chunks.Element == [UInt8] {
        let uploads = uploadsDirectory
        let path = "\(uploads)/\(UUID().uuidString.lowercased()).part"
        let file = try await BlockingIO.run { () -> WritableFile in
            try Self.makeDirectories(uploads)
            return try WritableFile(creating: path)
        }
        do {
            var hasher = ContentHasher()
            for try await chunk in chunks where !chunk.isEmpty {
                try Task.checkCancellation()
                // Hash while the chunk is written: the two costs overlap instead of adding up.
                async let written: Void = BlockingIO.run { try file.write(chunk) }
                hasher.update(chunk)
                try await written
            }
            try Task.checkCancellation()
            try await BlockingIO.run { try file.syncAndClose() }
            return StagedContent(
                sha256: hasher.finalize(), size: hasher.byteCount, blobID: nil, stagingPath: path)
        } catch {
            _ = try? await BlockingIO.run {
                file.closeQuietly()
                unlink(path)
            }
            throw error
        }
    }

    public func promote(_ staged: StagedContent, on connection: PGConnection) async throws {
        guard let staging = staged.stagingPath else { return }
        let final = path(of: staged.sha256)
        try await BlockingIO.run {
            let directory = String(final[..<(final.lastIndex(of: "/") ?? final.endIndex)])
            try Self.makeDirectories(directory)
            if access(staging, F_OK) != 0 && access(final, F_OK) == 0 { return }  // a retried transaction
            guard rename(staging, final) == 0 else {
                throw ResourceStoreError.io(operation: "rename", path: final, errno: errno)
            }
            try Self.syncDirectory(directory)
        }
    }

    public func discard(_ staged: StagedContent) async {
        guard let staging = staged.stagingPath else { return }
        _ = try? await BlockingIO.run { unlink(staging) }
    }

    public func chunks(of content: StoredContent) -> ResourceChunks {
        let path = path(of: content.sha256)
        let size = chunkSize
        return ResourceChunks { Reader(file: FileDescriptor(path: path), chunkSize: size, content: content) }
    }

    struct Reader: ResourceChunkReader {
        let file: FileDescriptor
        let chunkSize: Int
        let content: StoredContent
        var delivered: Int64 = 0

        mutating func next() async throws -> [UInt8]? {
            let file = file
            let size = chunkSize
            let chunk: [UInt8]
            do {
                chunk = try await BlockingIO.run { try file.read(upTo: size) }
            } catch ResourceStoreError.io(let operation, _, let code)
                where operation == "open" && code == ENOENT
            {
                throw ResourceStoreError.contentDamaged(sha256: content.sha256, detail: "file missing")
            }
            if chunk.isEmpty {
                guard delivered == content.size else {
                    throw ResourceStoreError.contentDamaged(
                        sha256: content.sha256, detail: "file has \(delivered) of \(content.size) bytes")
                }
                return nil
            }
            delivered += Int64(chunk.count)
            return chunk
        }
    }

    public func remove(_ content: StoredContent, on connection: PGConnection) async throws
        -> @Sendable (Bool) async -> Void
    {
        let final = path(of: content.sha256)
        let trash = "\(trashDirectory)/\(content.sha256).\(UUID().uuidString.lowercased())"
        let trashDirectory = trashDirectory
        let moved = try await BlockingIO.run { () -> Bool in
            try Self.makeDirectories(trashDirectory)
            if rename(final, trash) == 0 { return true }
            if errno == ENOENT { return false }
            throw ResourceStoreError.io(operation: "rename", path: final, errno: errno)
        }
        return { committed in
            guard moved else { return }
            _ = try? await BlockingIO.run {
                if committed {
                    unlink(trash)
                } else {
                    rename(trash, final)
                }
            }
        }
    }

    public func removeAbandonedUploads(startedBefore started: Date, pool: PGPool) async throws -> Int {
        let uploads = uploadsDirectory
        return try await BlockingIO.run {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: uploads)) ?? []
            var removed = 0
            for name in names where name.hasSuffix(".part") {
                let path = uploads + "/" + name
                let attributes = try? FileManager.default.attributesOfItem(atPath: path)
                guard let modified = attributes?[.modificationDate] as? Date, modified < started else {
                    continue
                }
                if unlink(path) == 0 { removed += 1 }
            }
            return removed
        }
    }

    static func makeDirectories(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ResourceStoreError.io(operation: "mkdir", path: path, errno: errno)
        }
    }

    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ResourceStoreError.io(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw ResourceStoreError.io(operation: "fsync", path: path, errno: errno)
        }
    }
}

/// A file being written by one upload, one chunk at a time.
final class WritableFile: @unchecked Sendable {
    // @unchecked: the owning upload issues one call at a time, in order.
    let path: String
    private var fd: Int32

    init(creating path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ResourceStoreError.io(operation: "create", path: path, errno: errno) }
    }

    deinit { closeQuietly() }

    func write(_ bytes: [UInt8]) throws {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ResourceStoreError.io(operation: "write", path: path, errno: errno)
            }
            written += n
        }
    }

    func syncAndClose() throws {
        guard fsync(fd) == 0 else {
            throw ResourceStoreError.io(operation: "fsync", path: path, errno: errno)
        }
        let result = close(fd)
        fd = -1
        guard result == 0 else { throw ResourceStoreError.io(operation: "close", path: path, errno: errno) }
    }

    func closeQuietly() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
    }
}
