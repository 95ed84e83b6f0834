import ArgumentParser
import Foundation
import KeelCore
import KeelStore

/// `keel resource put FILE`: streams a file into the store and prints its reference.
struct ResourcePut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Store a file as a resource and print its reference (the same content is stored once).")

    @Argument(help: "The file to store.") var file: String
    @Option(help: "Media type (default: guessed from the file's extension, see docs/resources.md).")
    var type: String?
    @Option(help: "A name for this resource (default: the file's name).") var name: String?
    @Flag(help: "Retain it for ever: collection never removes it.") var keep = false
    @Option(help: "Refuse the content unless it has this SHA-256 (64 hex digits).") var sha256: String?
    @OptionGroup var options: ResourceOptions

    func run() async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue
        else {
            throw options.output.fail(.user("no such file: \(file)"))
        }
        let fileName = URL(fileURLWithPath: file).lastPathComponent
        let description = ResourceDescription(
            name: name ?? fileName, mediaType: type ?? ResourceMediaType.guess(forFileName: fileName),
            retention: keep ? .keep : .standard)
        let record = try await options.withStore { store in
            try await store.put(FileChunks(path: file), description: description, expectedSHA256: sha256)
        }
        options.output.emit(record) { record.reference.description }
    }
}
