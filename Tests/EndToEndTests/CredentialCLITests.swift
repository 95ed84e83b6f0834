import Foundation
import KeelTestSupport
import Testing

/// `keel role add` and `keel broker user` take a password from `--password-file`: a file holding U+0000, a
/// line break inside the password, nothing, or no file at all is refused (exit 1) before anything is
/// created, and the refusal does not repeat the file's content.
@Suite struct CredentialCLITests: KeelCLITesting {
    @Test(arguments: ["pass\u{0}word", "first\nsecond", "\n", ""])
    func anUnusablePasswordFileIsRefused(_ content: String) async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "password-\(UUID().uuidString)")
        try Data(content.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        for command in [
            [
                "role", "add", "keel_never_created", "--role", "reader", "--password-file", file.path,
                "--json",
            ],
            [
                "broker", "user", "keel-never-created", "--service", "trigger-intake", "--password-file",
                file.path, "--json",
            ],
        ] {
            let result = try await keel(command)
            #expect(result.status == 1, "\(command[0]) accepted \(content.debugDescription)")
            let error = ((result.json as? [String: Any])?["error"] as? String) ?? ""
            #expect(error.contains("holds no usable password"), "\(error)")
            #expect(!content.isEmpty && content != "\n" ? !error.contains(content) : true)
        }
        let missing = try await keel(
            [
                "role", "add", "keel_never_created", "--role", "reader", "--password-file", "/nonexistent/p",
                "--json",
            ])
        #expect(missing.status == 1)
    }
}
