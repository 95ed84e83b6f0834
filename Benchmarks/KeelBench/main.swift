// keel-bench: prints throughput through Keel's clients beside the raw C libraries, measured in one run.
// Settings come from the environment or .keel/env (KEEL_DATABASE_URL, KEEL_AMQP_URL).
import Foundation

var figures: [BenchFigure] = []
// Each client contributes its figures here (see PGBenchmark.swift, AMQPBenchmark.swift).
if let databaseURL = PGBenchmark.databaseURL() {
    figures += try await PGBenchmark.run(databaseURL: databaseURL)
}

print("figure | swift | raw C | overhead | workload")
for figure in figures {
    print(
        "\(figure.name) | \(String(format: "%.0f", figure.swift)) | \(String(format: "%.0f", figure.raw)) | "
            + "\(String(format: "%.1f%%", figure.overhead * 100)) | \(figure.workload)")
}
