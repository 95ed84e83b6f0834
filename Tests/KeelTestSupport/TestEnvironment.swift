public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where the integration tests find the servers that `scripts/test` started.
///
/// Settings come from the process environment first, then from `.keel/env` (the file the local stack
/// writes), so a test run inside or outside the scripts sees the same servers. A missing setting is a
/// test failure with a message naming it, never a silent skip: these tests exist to talk to real servers.
public enum TestEnvironment {
    /// The package root: the nearest ancestor of this source file holding `Package.swift`.
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url
            }
            url.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// The state folder of the local stack (`KEEL_STATE_DIR`, default `.keel/` in the package root).
    public static var stateDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["KEEL_STATE_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return packageRoot.appendingPathComponent(".keel")
    }

    /// The value of a setting, or an error naming the setting and where it was looked for.
    public static func require(_ name: String) throws -> String {
        if let value = value(name) { return value }
        throw MissingSetting(
            name: name, envFile: stateDirectory.appendingPathComponent("env").path)
    }

    /// The value of a setting from the environment or `.keel/env`, if set.
    public static func value(_ name: String) -> String? {
        if let value = ProcessInfo.processInfo.environment[name], !value.isEmpty { return value }
        return envFile[name]
    }

    /// `KEY=value` lines of `.keel/env`, read on every call so a restarted stack is seen.
    static var envFile: [String: String] {
        let path = stateDirectory.appendingPathComponent("env").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let eq = trimmed.firstIndex(of: "=") else { continue }
            var value = String(trimmed[trimmed.index(after: eq)...])
            if value.count >= 2, value.hasPrefix("'") || value.hasPrefix("\""), value.last == value.first {
                value = String(value.dropFirst().dropLast())
            }
            values[String(trimmed[..<eq])] = value
        }
        return values
    }

    /// Runs one of the project's scripts (path relative to the package root), e.g.
    /// `scripts/servers/postgres.sh restart`, and returns its output; throws with the output when it fails.
    ///
    /// The script is started with posix_spawn and reaped with waitpid on a thread of its own, its output
    /// going to a file: Foundation's `Process` can wait forever when a daemon the script starts inherits one
    /// of its descriptors (swift-corelibs-foundation#4795), and a pipe would not see EOF while the daemon
    /// lives. Nothing here blocks a thread of Swift's cooperative pool.
    @discardableResult
    public static func runScript(
        _ relativePath: String, _ arguments: String..., timeout: Duration = .seconds(300)
    ) async throws -> String {
        try await runScript(relativePath, arguments: arguments, environment: [:], timeout: timeout)
    }

    /// `runScript` with settings of its own on top of the test's environment (another state folder or
    /// port, say), passed through `env`.
    @discardableResult
    public static func runScript(
        _ relativePath: String, arguments: [String], environment: [String: String],
        timeout: Duration = .seconds(300)
    ) async throws -> String {
        let settings = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let argv =
            (settings.isEmpty ? [] : ["/usr/bin/env"] + settings)
            + [packageRoot.appendingPathComponent(relativePath).path] + arguments
        return try await run(argv, in: packageRoot.path, timeout: timeout)
    }

    /// Runs a program (`argv[0]` looked up in `PATH`) in `directory` with the test's environment, as
    /// `runScript` runs scripts, and returns its output (stdout and stderr together); throws with the
    /// output when it fails.
    @discardableResult
    public static func run(_ argv: [String], in directory: String, timeout: Duration = .seconds(300))
        async throws -> String
    {
        let command = argv.joined(separator: " ")
        let log = FileManager.default.temporaryDirectory
            .appendingPathComponent("keel-script-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let status: Int32 = await withCheckedContinuation { continuation in
            Thread {
                continuation.resume(
                    returning: spawnAndWait(argv, directory: directory, log: log, timeout: timeout))
            }.start()
        }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard status != timedOut else {
            throw ScriptFailed(script: command, status: status, output: "killed after \(timeout):\n" + output)
        }
        guard status == 0 else { throw ScriptFailed(script: command, status: status, output: output) }
        return output
    }

    /// The status `spawnAndWait` reports for a script it killed at its deadline.
    static let timedOut: Int32 = -2

    /// Spawns `argv` in `directory` with stdin from /dev/null and stdout and stderr appended to `log`, and
    /// waits for it until `timeout`; returns its exit status, -1 when it could not be started, or
    /// ``timedOut`` after killing it at the deadline.
    static func spawnAndWait(_ argv: [String], directory: String, log: String, timeout: Duration) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // `cd` through the shell: posix_spawn_file_actions_addchdir_np is not visible to Swift here.
        let shell = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory] + argv
        let cArguments: [UnsafeMutablePointer<CChar>?] = shell.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/sh", &actions, nil, cArguments, environ) == 0 else { return -1 }
        var status: Int32 = 0
        let deadline = ContinuousClock.now + timeout
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped == -1 && errno != EINTR { return -1 }
            if ContinuousClock.now >= deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                return timedOut
            }
            usleep(20_000)
        }
        // WIFEXITED / WEXITSTATUS, which Swift cannot import as macros.
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

/// A setting the integration tests need was not found.
public struct MissingSetting: Error, CustomStringConvertible {
    public let name: String
    public let envFile: String
    public var description: String {
        "\(name) is not set in the environment or in \(envFile); start the servers with scripts/test"
    }
}

/// A project script exited with a non-zero status.
public struct ScriptFailed: Error, CustomStringConvertible {
    public let script: String
    public let status: Int32
    public let output: String
    public var description: String { "\(script) exited with \(status):\n\(output)" }
}
