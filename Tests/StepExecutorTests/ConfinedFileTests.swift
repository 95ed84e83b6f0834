import Foundation
import Testing

@testable import step_executor

#if canImport(Glibc)
    import Glibc
#endif

/// What the executor agrees to open for a step: a regular file below the step's directory, reached
/// without any symbolic link, and the step's own when it ran as a user of its own.
@Suite struct ConfinedFileTests {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("keel-confined-\(UUID())").path
    let secret = FileManager.default.temporaryDirectory.appendingPathComponent(
        "keel-confined-secret-\(UUID())"
    ).path

    init() throws {
        try FileManager.default.createDirectory(atPath: base + "/sub", withIntermediateDirectories: true)
        try "report".write(toFile: base + "/sub/report.txt", atomically: false, encoding: .utf8)
        try "top secret".write(toFile: secret, atomically: false, encoding: .utf8)
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: base)
        try? FileManager.default.removeItem(atPath: secret)
    }

    func read(_ path: String, owner: UInt32? = nil) throws -> String {
        let fd = try ConfinedFile.open(path, under: base, owner: owner)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 100)
        let count = Glibc.read(fd, &buffer, 100)
        return String(decoding: buffer[0..<max(count, 0)], as: UTF8.self)
    }

    @Test func aRegularFileBelowTheDirectoryIsReadRelativeOrAbsolute() throws {
        defer { cleanUp() }
        #expect(try read("sub/report.txt") == "report")
        #expect(try read("./sub//report.txt") == "report")
        #expect(try read(base + "/sub/report.txt") == "report")
        #expect(try read("sub/report.txt", owner: geteuid()) == "report")
    }

    @Test func aSymlinkAsTheFileOrOnTheWayIsRefusedWithoutItsContents() throws {
        defer { cleanUp() }
        try FileManager.default.createSymbolicLink(atPath: base + "/link.txt", withDestinationPath: secret)
        #expect(throws: ConfinedFileError.invalid("link.txt", "is a symbolic link")) { try read("link.txt") }
        try FileManager.default.createSymbolicLink(atPath: base + "/dir", withDestinationPath: "/etc")
        #expect(throws: ConfinedFileError.self) { try read("dir/hostname") }
    }

    @Test func pathsOutsideGoingUpOrToSomethingElseThanAFileAreRefused() throws {
        defer { cleanUp() }
        #expect(throws: ConfinedFileError.self) { try read(secret) }
        #expect(throws: ConfinedFileError.self) {
            try read("sub/../../\((secret as NSString).lastPathComponent)")
        }
        #expect(throws: ConfinedFileError.self) { try read("sub") }
        // A FIFO would block an open for reading until a writer came: it must fail at once instead.
        #expect(mkfifo(base + "/fifo", 0o600) == 0)
        #expect(throws: ConfinedFileError.invalid("fifo", "is not a regular file")) { try read("fifo") }
    }

    @Test func aFileOfAnotherUserIsRefusedWhenTheStepHasAUserOfItsOwn() throws {
        defer { cleanUp() }
        #expect(throws: ConfinedFileError.invalid("sub/report.txt", "does not belong to the step's user")) {
            try read("sub/report.txt", owner: geteuid() + 1)
        }
    }
}
