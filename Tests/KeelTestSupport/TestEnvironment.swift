public import Foundation

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
    /// `scripts/servers/postgres.sh restart`, and throws with its output when it fails or runs longer than
    /// `timeout` (then it is terminated), so a hung script fails the test instead of hanging the run.
    @discardableResult
    public static func runScript(
        _ relativePath: String, _ arguments: String..., timeout: Duration = .seconds(300)
    ) throws -> String {
        let script = ([relativePath] + arguments).joined(separator: " ")
        let process = Process()
        process.executableURL = packageRoot.appendingPathComponent(relativePath)
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        // The output is read on another thread so the wait below can give up; EOF comes when the script
        // and everything it left running have closed the pipe.
        let output = ScriptOutput()
        let finished = DispatchSemaphore(value: 0)
        let reader = pipe.fileHandleForReading
        DispatchQueue.global().async {
            output.set(reader.readDataToEndOfFile())
            finished.signal()
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        guard finished.wait(timeout: .now() + seconds) == .success else {
            process.terminate()
            throw ScriptFailed(
                script: script, status: -1,
                output: "no end of output within \(timeout) (a daemon it started may hold the pipe)")
        }
        process.waitUntilExit()
        let text = String(decoding: output.data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw ScriptFailed(script: script, status: process.terminationStatus, output: text)
        }
        return text
    }
}

/// A script's output, handed from the thread that reads it to the one that waits.
private final class ScriptOutput: @unchecked Sendable {
    // @unchecked: written once before the semaphore is signalled, read only after the wait succeeded.
    private(set) var data = Data()
    func set(_ data: Data) { self.data = data }
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
