import Foundation
import KeelStore

/// A fresh private directory for one attempt of a `run` step, holding the empty file the step may
/// write its outputs to (`KEEL_OUTPUT`); removed when the attempt is over.
struct AttemptDirectory: Sendable {
    let path: String
    var outputPath: String { path + "/output.json" }

    /// Creates `<parent>/keel-step-<uuid>` (mode 0700) and the empty output file (mode 0600).
    static func create(in parent: String) async throws -> AttemptDirectory {
        let directory = AttemptDirectory(path: "\(parent)/keel-step-\(UUID().uuidString.lowercased())")
        try await BlockingIO.run {
            try FileManager.default.createDirectory(
                atPath: directory.path, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            guard
                FileManager.default.createFile(
                    atPath: directory.outputPath, contents: Data(), attributes: [.posixPermissions: 0o600])
            else {
                throw AttemptDirectoryError(description: "cannot create the output file in \(directory.path)")
            }
        }
        return directory
    }

    /// What the step wrote to its output file; nil when it is larger than `maximumSize` bytes.
    func readOutput(maximumSize: Int) async throws -> [UInt8]? {
        let path = outputPath
        return try await BlockingIO.run {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            let data = try handle.read(upToCount: maximumSize + 1) ?? Data()
            return data.count > maximumSize ? nil : [UInt8](data)
        }
    }

    /// Removes the directory and whatever the step left in it.
    func remove() async {
        let path = path
        _ = try? await BlockingIO.run { try FileManager.default.removeItem(atPath: path) }
    }
}

/// The attempt's directory could not be made.
struct AttemptDirectoryError: Error, CustomStringConvertible {
    var description: String
}
