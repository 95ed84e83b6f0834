import Foundation

/// Runs `rabbitmqctl` (or the command KEEL_RABBITMQCTL names, split on spaces) for `keel publisher`.
struct BrokerAdministration {
    /// The command and its leading arguments, e.g. `["scripts/servers/rabbitmq.sh", "ctl"]`.
    let command: [String]

    init(flag: String?) {
        let text = CLISettings().value("KEEL_RABBITMQCTL", flag: flag, default: "rabbitmqctl")
        command = text.split(separator: " ").map(String.init)
    }

    /// Why a rabbitmqctl call failed: its exit status and what it printed (never the password, which
    /// goes on standard input only).
    struct Failure: Error, CustomStringConvertible {
        var arguments: [String]
        var status: Int32
        var output: String
        var description: String {
            "\(arguments.first ?? "rabbitmqctl") failed (exit \(status)): "
                + output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Runs one subcommand with `input` on its standard input; throws `Failure` on a non-zero exit. The
    /// blocking reads and wait run on a thread of their own, off Swift's cooperative pool.
    @discardableResult
    func run(_ arguments: [String], input: String? = nil) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try runBlocking(arguments, input: input) })
            }
        }
    }

    private func runBlocking(_ arguments: [String], input: String?) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command + arguments
        let output = Pipe()
        let stdin = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(arguments: arguments, status: process.terminationStatus, output: text)
        }
        return text
    }
}
