import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A file's bytes as an `AsyncSequence` of chunks (1 MiB by default), read on `BlockingIO`'s queue, so a
/// file of any size streams into `ResourceStore.put` without being loaded.
public struct FileChunks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    public let path: String
    public let chunkSize: Int

    /// An already open file, read from wherever it stands; for one iteration only.
    private let adopted: FileDescriptor?

    public init(path: String, chunkSize: Int = 1 << 20) {
        self.path = path
        self.chunkSize = chunkSize
        adopted = nil
    }

    /// The file open as `descriptor`, which the sequence takes over and closes: for a file opened with
    /// care (no symbolic links, checked owner) that must not be opened again by path. `path` is for errors.
    public init(adopting descriptor: Int32, path: String, chunkSize: Int = 1 << 20) {
        self.path = path
        self.chunkSize = chunkSize
        adopted = FileDescriptor(adopting: descriptor, path: path)
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(file: adopted ?? FileDescriptor(path: path), chunkSize: chunkSize)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let file: FileDescriptor
        let chunkSize: Int

        public mutating func next() async throws -> [UInt8]? {
            try Task.checkCancellation()
            let file = file
            let size = chunkSize
            let chunk = try await BlockingIO.run { try file.read(upTo: size) }
            return chunk.isEmpty ? nil : chunk
        }
    }
}

/// An open file, closed when the last reference goes. Reads are sequential: one at a time by its owner.
final class FileDescriptor: @unchecked Sendable {
    // @unchecked: `fd` is set once; the owning iterator issues one read at a time.
    let path: String
    private var fd: Int32 = -1
    private var opened = false

    init(path: String) {
        self.path = path
    }

    init(adopting fd: Int32, path: String) {
        self.path = path
        self.fd = fd
        opened = true
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Up to `count` bytes; empty at end of file.
    func read(upTo count: Int) throws -> [UInt8] {
        if !opened {
            opened = true
            fd = open(path, O_RDONLY | O_CLOEXEC)
        }
        guard fd >= 0 else { throw ResourceStoreError.io(operation: "open", path: path, errno: errno) }
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = buffer.withUnsafeMutableBytes { raw in
                Glibc.read(fd, raw.baseAddress.map { $0 + filled }, count - filled)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ResourceStoreError.io(operation: "read", path: path, errno: errno)
            }
            if n == 0 { break }
            filled += n
        }
        buffer.removeLast(count - filled)
        return buffer
    }
}
