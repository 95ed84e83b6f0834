import Foundation
import Testing

@testable import SSHClient

/// The command lines SSHClient builds, checked with the local /bin/sh (no server needed).
@Suite("Shell command lines")
struct ShellCommandTests {
    static let nastyValues = [
        "", "plain", "it's", "''", "\"double\"", "$HOME", "${PATH}", "$(id)", "`id`", "back\\slash",
        "\\'", "new\nline", "\n", "tab\there", "  spaces  ", "semi;colon && amp | pipe > redirect",
        "'\u{301}; echo broken-out; '", "grüße 🚀", "*", "~", "#comment", "!bang", "a=b",
    ]

    /// What `sh` makes of `line` when it runs it, with stdout captured.
    static func shellOutput(_ line: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", line]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "sh failed on: \(line)")
        return [UInt8](data)
    }

    @Test("quoted values come out of the shell unchanged", arguments: nastyValues)
    func quoting(value: String) throws {
        #expect(try Self.shellOutput("printf %s \(ShellCommand.quote(value))") == Array(value.utf8))
    }

    @Test("exported environment values come out of the shell unchanged")
    func environment() throws {
        let environment = Dictionary(
            uniqueKeysWithValues: Self.nastyValues.enumerated().map { ("V\($0.offset)", $0.element) })
        let names = environment.keys.sorted()
        let command = "printf '%s\\0' " + names.map { "\"$\($0)\"" }.joined(separator: " ")
        let line = try ShellCommand.withEnvironment(command, environment)
        let expected: [UInt8] = names.flatMap { Array((environment[$0] ?? "").utf8) + [0] }
        #expect(try Self.shellOutput(line) == expected)
    }

    @Test("names that are not shell identifiers and NUL bytes are refused")
    func refusals() {
        for name in ["", "1A", "A-B", "A B", "A=B", "Ä", "$A"] {
            #expect(throws: ShellCommand.Invalid.self) {
                try ShellCommand.withEnvironment("true", [name: "v"])
            }
        }
        #expect(throws: ShellCommand.Invalid.self) {
            try ShellCommand.withEnvironment("true", ["A": "\0"])
        }
        #expect(throws: ShellCommand.Invalid.self) { try ShellCommand.withEnvironment("a\0b", [:]) }
        #expect(throws: ShellCommand.Invalid.self) { try ShellCommand.detached("a\0b", logFile: nil) }
        for signal in ["", "9", "TERM;id", "-KILL", "T E"] {
            #expect(throws: ShellCommand.Invalid.self) {
                try ShellCommand.kill(pid: 12, signal: signal, processGroup: false)
            }
        }
        #expect(throws: ShellCommand.Invalid.self) {
            try ShellCommand.kill(pid: 0, signal: "TERM", processGroup: false)
        }
    }

    @Test("a start's answer is read from its last line, whatever a login rc file printed before it")
    func startReplies() {
        #expect(DetachedStartReply(stdout: "started 42\n") == .started(42))
        #expect(
            DetachedStartReply(stdout: "Welcome to gpu-1!\nMOTD: be nice\nstarted 42\n\n") == .started(42))
        #expect(DetachedStartReply(stdout: "hello\r\nexisting 7\r\n") == .existing(7))
        #expect(DetachedStartReply(stdout: "ended 9") == .ended(9))
        #expect(DetachedStartReply(stdout: "started 1 2\nstale\n") == .stale)
        // Something printed after the answer (an exit trap) leaves no answer: the start failed.
        #expect(DetachedStartReply(stdout: "started 42\nbye\n") == nil)
        #expect(DetachedStartReply(stdout: "") == nil)
        #expect(DetachedStartReply(stdout: "existing \n") == nil)
        #expect(DetachedStartReply(stdout: "started -3\n") == nil)
    }

    @Test("kill lines name the process or its group")
    func killLines() throws {
        #expect(
            try ShellCommand.kill(pid: 42, signal: "sigterm", processGroup: false) == "kill -s TERM -- 42"
        )
        #expect(
            try ShellCommand.kill(pid: 42, signal: "KILL", processGroup: true) == "kill -s KILL -- -42")
    }

    @Test("pinned host keys parse as fingerprints or key lines")
    func pinnedParsing() throws {
        let fingerprint = try #require(
            PinnedHostKey("  SHA256:f/gS2OmD8mHlzSbulpvx6gUfrXYCpAvKobiJq3zF0mo= "))
        guard case .fingerprint(let value) = fingerprint else {
            Issue.record("not a fingerprint")
            return
        }
        #expect(value == "f/gS2OmD8mHlzSbulpvx6gUfrXYCpAvKobiJq3zF0mo")
        let line = try #require(PinnedHostKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== host comment"))
        #expect(line.preferredKind == .ed25519)
        #expect(PinnedHostKey("not a key") == nil)
        #expect(PinnedHostKey("SHA256:") == nil)
        #expect(PinnedHostKey("SHA256:***") == nil)
    }

    @Test("errors describe the failure without environment values")
    func errorDescription() {
        let error = SSHError(
            code: .timeout, message: "timed out running the command", host: "h", port: 22,
            command: "make test", libssh2Message: "would block", libssh2Code: -37)
        #expect(
            error.description
                == "SSHError(timeout) h:22: timed out running the command (libssh2 -37: would block) [command: make test]"
        )
    }
}
