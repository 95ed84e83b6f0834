import ArgumentParser
import Foundation
import KeelCore
import KeelStore

#if canImport(Glibc)
    import Glibc
#endif

/// `keel resource get REF [-o FILE]`: streams a resource's bytes to a file or standard output, checking
/// their SHA-256 on the way.
struct ResourceGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Write a resource's content to standard output or, with -o, to a file.",
        discussion: """
            With -o the content is written to a temporary file beside FILE and renamed onto it only once its \
            SHA-256 matched the reference, so FILE is never left half written. `-o -` is standard output, \
            as for most Unix tools (a file named "-" is `-o ./-`).
            """)

    @Argument(help: "The reference, res:sha256:<hex>.") var reference: String
    @Option(
        name: .shortAndLong, help: "Write to this file instead of standard output (- is standard output).")
    var output: String?
    @OptionGroup var options: ResourceOptions

    struct Report: Encodable {
        var reference: ResourceReference
        var size: Int64
        var path: String
    }

    func run() async throws {
        let reference = try options.reference(reference)
        let target = output == "-" ? nil : output
        if options.database.json && target == nil {
            throw options.output.fail(.user("--json needs -o FILE: standard output carries the content"))
        }
        let size = try await options.withStore { store in
            let (content, chunks) = try await store.open(reference)
            let sink = try OutputSink(path: target)
            var hasher = ContentHasher()
            do {
                for try await chunk in chunks {
                    hasher.update(chunk)
                    try sink.write(chunk)
                }
                let actual = hasher.finalize()
                guard actual == reference.sha256 else {
                    throw CLIFailure.infrastructure(
                        "stored content of \(reference) hashes to sha256 \(actual); nothing was written")
                }
                try sink.commit()
            } catch {
                sink.abandon()
                throw error
            }
            return content.size
        }
        if let target {
            options.output.emit(Report(reference: reference, size: size, path: target)) {
                "wrote \(size) bytes to \(target)"
            }
        }
    }
}

/// Standard output, or a temporary file renamed onto the target by `commit()`.
final class OutputSink {
    let target: String?
    let temporary: String?
    private var fd: Int32

    init(path: String?) throws {
        target = path
        guard let path else {
            temporary = nil
            fd = STDOUT_FILENO
            return
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let temporary =
            "\(directory)/.\(URL(fileURLWithPath: path).lastPathComponent).\(UUID().uuidString).part"
        self.temporary = temporary
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CLIFailure.user("cannot create \(path) (errno \(errno))") }
    }

    func write(_ bytes: [UInt8]) throws {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw CLIFailure.infrastructure(
                    "writing \(target ?? "standard output") failed (errno \(errno))")
            }
            written += n
        }
    }

    func commit() throws {
        guard let temporary, let target else { return }
        let closed = close(fd)
        fd = -1
        guard closed == 0, rename(temporary, target) == 0 else {
            throw CLIFailure.infrastructure("writing \(target) failed (errno \(errno))")
        }
    }

    func abandon() {
        guard let temporary else { return }
        if fd >= 0 { close(fd) }
        fd = -1
        unlink(temporary)
    }
}
