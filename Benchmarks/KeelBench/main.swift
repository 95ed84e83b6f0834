// keel-bench: prints throughput through Keel's clients beside the raw C libraries, measured in one run.
// Settings come from the environment or .keel/env (KEEL_DATABASE_URL, KEEL_AMQP_URL).
// `keel-bench engine [--runs N] [--steps N] [--executors N]` measures the run engine instead (EngineBenchmark).
import Foundation

if CommandLine.arguments.dropFirst().first == "engine" {
    do {
        let succeeded = try await EngineBenchmark.main(arguments: Array(CommandLine.arguments.dropFirst(2)))
        exit(succeeded ? 0 : 1)
    } catch {
        FileHandle.standardError.write(Data("keel-bench engine: \(error)\n".utf8))
        exit(1)
    }
}

var figures: [BenchFigure] = []
// Each client contributes its figures here (see PGBenchmark.swift, AMQPBenchmark.swift).
if let databaseURL = benchSetting("KEEL_DATABASE_URL") {
    figures += try await PGBenchmark.run(databaseURL: databaseURL)
    figures += try await ResourceBenchmark.run(databaseURL: databaseURL)
} else {
    FileHandle.standardError.write(Data("KEEL_DATABASE_URL not set; skipping the PostgreSQL figures\n".utf8))
}
if let amqpURL = benchSetting("KEEL_AMQP_URL") {
    figures += try await AMQPBenchmark.run(amqpURL: amqpURL)
} else {
    FileHandle.standardError.write(Data("KEEL_AMQP_URL not set; skipping the AMQP figures\n".utf8))
}

print("figure | swift | raw C | overhead | workload")
for figure in figures {
    print(
        "\(figure.name) | \(String(format: "%.0f", figure.swift)) | \(String(format: "%.0f", figure.raw)) | "
            + "\(String(format: "%.1f%%", figure.overhead * 100)) | \(figure.workload)")
}

/// A setting from the environment, else from `.keel/env` in the current directory (the stack's file).
func benchSetting(_ name: String) -> String? {
    if let value = ProcessInfo.processInfo.environment[name], !value.isEmpty { return value }
    let stateDir = ProcessInfo.processInfo.environment["KEEL_STATE_DIR"] ?? ".keel"
    guard let text = try? String(contentsOfFile: stateDir + "/env", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(name + "=") {
        return String(line.dropFirst(name.count + 1))
    }
    return nil
}
