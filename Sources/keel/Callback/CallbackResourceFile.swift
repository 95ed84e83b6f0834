import ArgumentParser
import Foundation
import KeelCore
import KeelStore

/// One `--resource NAME=PATH`: a file the worker uploads before its callback, which then names it in
/// `resources` so the step's outputs carry it under NAME as `{"$resource": "res:sha256:…"}`.
struct CallbackResourceFile: Sendable, Equatable {
    let name: String
    let path: String
    /// Guessed from the file's extension (`ResourceMediaType`), else `application/octet-stream`.
    let mediaType: String

    /// Parses `NAME=PATH` (the first `=` separates them) and checks the name; the file is checked by
    /// `digest()`.
    init(argument: String) throws(ValidationError) {
        guard let separator = argument.firstIndex(of: "=") else {
            throw ValidationError("--resource \(argument): expected NAME=PATH")
        }
        name = String(argument[..<separator])
        path = String(argument[argument.index(after: separator)...])
        guard CallbackResourceName.isValid(name) else {
            throw ValidationError("--resource \(argument): the name must be \(CallbackResourceName.rule)")
        }
        guard !path.isEmpty else { throw ValidationError("--resource \(argument): expected NAME=PATH") }
        mediaType = ResourceMediaType.guess(forFileName: path)
    }

    /// The file's SHA-256 (64 lowercase hex digits), read chunk by chunk off the cooperative pool so a
    /// large file is never held in memory; a missing or unreadable file is a usage error.
    func digest() async throws -> String {
        let path = path
        let isFile = try await BlockingIO.run {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
                && !isDirectory.boolValue
        }
        guard isFile else { throw ValidationError("--resource \(name)=\(path): no such file") }
        var hasher = ContentHasher()
        do {
            for try await chunk in FileChunks(path: path) { hasher.update(chunk) }
        } catch {
            throw ValidationError("--resource \(name)=\(path): cannot read the file")
        }
        return hasher.finalize()
    }
}
