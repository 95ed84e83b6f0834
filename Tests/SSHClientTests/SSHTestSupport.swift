import Foundation
import KeelTestSupport
import Logging
import SSHClient
import Testing

/// Every test of this module talks to the one sshd of scripts/servers/sshd.sh, so they live in this
/// serialized suite (nested suites inherit `.serialized`). The one that restarts it is
/// `SSHServerRestartTests`, which `scripts/test` runs after everything else.
@Suite("SSHClient against the test sshd", .serialized)
struct SSHServerTests {}

/// Settings of the test sshd and helpers shared by the suites.
enum TestSSH {
    static let logger = Logger(label: "keel.ssh.tests")

    static var host: String { get throws { try TestEnvironment.require("KEEL_SSH_HOST") } }
    static var user: String { get throws { try TestEnvironment.require("KEEL_SSH_USER") } }
    static var keyPath: String { get throws { try TestEnvironment.require("KEEL_SSH_KEY") } }
    static var knownHostsPath: String {
        get throws { try TestEnvironment.require("KEEL_SSH_KNOWN_HOSTS") }
    }

    static var port: Int {
        get throws {
            let text = try TestEnvironment.require("KEEL_SSH_PORT")
            return try #require(Int(text), "KEEL_SSH_PORT is not a number: \(text)")
        }
    }

    /// The configuration the test sshd accepts, with parts replaced as a test needs.
    static func configuration(
        identity: SSHIdentity? = nil, hostKey: SSHHostKeyPolicy? = nil, port: Int? = nil,
        connectTimeout: Duration = .seconds(20)
    ) throws -> SSHConfiguration {
        SSHConfiguration(
            host: try host, port: try port ?? self.port, user: try user,
            identity: try identity ?? .privateKeyFile(path: keyPath),
            hostKey: try hostKey ?? .knownHosts(path: knownHostsPath), connectTimeout: connectTimeout)
    }

    /// Runs `body` with a session to the test sshd and closes it afterwards.
    static func withSession<T>(
        _ configuration: SSHConfiguration? = nil, _ body: (SSHSession) async throws -> T
    ) async throws -> T {
        let session = try await SSHSession.connect(
            configuration ?? self.configuration(), logger: logger)
        do {
            let result = try await body(session)
            await session.close()
            return result
        } catch {
            await session.close()
            throw error
        }
    }

    /// The ``SSHError`` thrown by `body`, failing the test when it throws something else or nothing.
    static func sshError(
        _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> SSHError {
        do {
            try await body()
        } catch let error as SSHError {
            return error
        } catch {
            Issue.record("expected an SSHError, got \(error)", sourceLocation: sourceLocation)
            throw error
        }
        Issue.record("expected an SSHError, but nothing was thrown", sourceLocation: sourceLocation)
        throw NothingThrown()
    }

    struct NothingThrown: Error {}

    /// A fresh temporary folder, removed by the caller with `removeItem`.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "keel-ssh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a local program and returns its standard output; fails when it exits non-zero.
    @discardableResult
    static func runLocal(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        try #require(process.terminationStatus == 0, "\(executable) \(arguments) failed: \(text)")
        return text
    }

    /// A new ed25519 key pair no server knows, as the private key path (public key at `path + ".pub"`).
    static func generateKey(in directory: URL, name: String = "key", passphrase: String = "") throws
        -> String
    {
        let path = directory.appendingPathComponent(name).path
        try runLocal(
            "/usr/bin/ssh-keygen",
            ["-q", "-t", "ed25519", "-N", passphrase, "-C", "keel-test", "-f", path])
        return path
    }

    /// Whether a process runs on this machine (the test sshd is local): present and not a zombie.
    static func isRunningLocally(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.first.map { $0 != "Z" && $0 != "X" } ?? false
    }

    /// Pids of local processes whose command line is exactly `arguments`, zombies excluded.
    static func localProcesses(withArguments arguments: [String]) -> [Int32] {
        let wanted = Array(arguments.joined(separator: "\0").utf8) + [0]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry),
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                [UInt8](data) == wanted, isRunningLocally(pid)
            else { return nil }
            return pid
        }
    }
}
