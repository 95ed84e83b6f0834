import Foundation

/// Resolves the CLI's settings: an explicit flag, else the environment, else `.keel/env` (the file the
/// local stack writes), else the local default.
struct CLISettings {
    let environment: [String: String]
    let envFile: [String: String]

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        let stateDirectory = environment["KEEL_STATE_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? ".keel"
        envFile = Self.readEnvFile(atPath: stateDirectory + "/env")
    }

    func value(_ name: String, flag: String?, default fallback: String) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let value = environment[name], !value.isEmpty { return value }
        if let value = envFile[name], !value.isEmpty { return value }
        return fallback
    }

    static func readEnvFile(atPath path: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return values
    }
}
