#if canImport(Glibc)
    import Glibc
#endif
import Foundation
import KeelStore

/// A fresh private directory for one attempt of a `run` step, holding the empty file the step may
/// write its outputs to (`KEEL_OUTPUT`); removed when the attempt is over.
///
/// Attempt directories live in `<temporary>/keel-steps-<executor uid>`, mode 0711 and the executor's:
/// a step can enter its own directory but not list the others. Each directory is 0700 and, when the step
/// runs as a user of its own, belongs to that user, so no other attempt can read it.
struct AttemptDirectory: Sendable {
    static let outputName = "output.json"

    let path: String
    /// The user the step runs as; nil when it runs as the executor.
    let owner: StepUser?
    var outputPath: String { path + "/" + Self.outputName }

    /// Creates `<parent>/<uuid>` (0700) with the empty output file (0600), both given to `owner`.
    static func create(in temporaryDirectory: String, owner: StepUser?) async throws -> AttemptDirectory {
        try await BlockingIO.run {
            let parent = try parentDirectory(in: temporaryDirectory)
            let directory = AttemptDirectory(
                path: "\(parent)/\(UUID().uuidString.lowercased())", owner: owner)
            guard mkdir(directory.path, 0o700) == 0 else { throw failure("create", directory.path) }
            let fd = open(directory.outputPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw failure("create", directory.outputPath) }
            defer { close(fd) }
            if let owner {
                guard fchown(fd, owner.uid, owner.gid) == 0 else {
                    throw failure("chown", directory.outputPath)
                }
                guard chown(directory.path, owner.uid, owner.gid) == 0 else {
                    throw failure("chown", directory.path)
                }
            }
            return directory
        }
    }

    /// `<temporary>/keel-steps-<euid>`, made 0711 if missing; refused when it is a symbolic link or another
    /// user's (someone could have made it first to watch or redirect the attempts).
    static func parentDirectory(in temporaryDirectory: String) throws -> String {
        let parent = "\(temporaryDirectory)/keel-steps-\(geteuid())"
        if mkdir(parent, 0o711) != 0, errno != EEXIST { throw failure("create", parent) }
        var status = stat()
        guard lstat(parent, &status) == 0 else { throw failure("inspect", parent) }
        guard status.st_mode & S_IFMT == S_IFDIR, status.st_uid == geteuid() else {
            throw AttemptDirectoryError(
                description: "\(parent) is not a directory of the executor's own user; remove it")
        }
        guard chmod(parent, 0o711) == 0 else { throw failure("chmod", parent) }
        return parent
    }

    /// What the step wrote to its output file; nil when it is larger than `maximumSize` bytes. The file is
    /// opened as a `ConfinedFile`: a symlink, FIFO or foreign file in its place fails the read.
    func readOutput(maximumSize: Int) async throws -> [UInt8]? {
        let path = path
        let owner = owner?.uid
        return try await BlockingIO.run {
            let fd = try ConfinedFile.open(Self.outputName, under: path, owner: owner)
            defer { close(fd) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while bytes.count <= maximumSize {
                let count = read(fd, &buffer, buffer.count)
                if count < 0, errno == EINTR { continue }
                guard count >= 0 else { throw Self.failure("read", path + "/" + Self.outputName) }
                if count == 0 { break }
                bytes += buffer[0..<count]
            }
            return bytes.count > maximumSize ? nil : bytes
        }
    }

    /// Removes the directory and whatever the step left in it (symbolic links are removed, not followed).
    func remove() async {
        let path = path
        _ = try? await BlockingIO.run { try FileManager.default.removeItem(atPath: path) }
    }

    private static func failure(_ operation: String, _ path: String) -> AttemptDirectoryError {
        AttemptDirectoryError(description: "cannot \(operation) \(path): \(String(cString: strerror(errno)))")
    }
}

/// The attempt's directory could not be made or read.
struct AttemptDirectoryError: Error, CustomStringConvertible {
    var description: String
}
