public import Foundation

/// Keel's migrations, shipped inside the binaries as a resource bundle so a deployed service knows
/// exactly which schema it was built for.
public enum KeelSchema {
    /// One migration file: its version (the number prefix), name, and SQL text.
    public struct File: Sendable, Hashable {
        public let version: Int
        public let name: String
        public let sql: String

        public init(version: Int, name: String, sql: String) {
            self.version = version
            self.name = name
            self.sql = sql
        }

        /// The line that marks an expand-only migration: services built for the schema before it keep
        /// working on a database that has it, so a rolling upgrade may migrate before every old replica
        /// is gone (docs/operations.md#upgrading).
        public static let compatibleMarker = "-- keel: compatible"

        /// Whether the file carries `compatibleMarker` on a line of its own.
        public var isCompatible: Bool {
            sql.split(whereSeparator: \.isNewline).contains {
                $0.trimmingCharacters(in: .whitespaces) == Self.compatibleMarker
            }
        }
    }

    /// The files in version order. Throws if a file name is not `NNNN_name.sql` or a version repeats.
    public static func files() throws -> [File] {
        guard
            let directory = Bundle.module.url(forResource: "migrations", withExtension: nil)
        else {
            throw SchemaFilesError(reason: "the migrations folder is missing from the resource bundle")
        }
        return try files(in: directory)
    }

    /// The migration files of a folder, for tests and tools that read a checkout rather than the bundle.
    public static func files(in directory: URL) throws -> [File] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") }
        var files: [File] = []
        for name in names {
            guard let underscore = name.firstIndex(of: "_"),
                let version = Int(name[..<underscore]), version > 0
            else {
                throw SchemaFilesError(reason: "\(name): expected NNNN_description.sql")
            }
            let sql = try String(
                contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            files.append(File(version: version, name: name, sql: sql))
        }
        files.sort { $0.version < $1.version }
        for (previous, next) in zip(files, files.dropFirst()) where previous.version == next.version {
            throw SchemaFilesError(
                reason: "\(previous.name) and \(next.name) share version \(next.version)")
        }
        return files
    }
}

/// The shipped migration files are malformed: a build problem, never a database one.
public struct SchemaFilesError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { "schema files: \(reason)" }
}
