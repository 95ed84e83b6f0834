import Foundation
public import Logging
import Metrics

/// Runs the readiness checks with a time limit each and reports which failed and why.
///
/// The report is public (`/health/ready` answers anyone), so it gives each failure as its check's
/// data-free reason; the error itself, which may name hosts, users or SQL, goes to the log.
public struct Readiness: Sendable {
    /// The outcome of one check.
    public struct Result: Sendable, Codable, Equatable {
        public var name: String
        public var ready: Bool
        /// Why the check failed, in words that hold no data from the error (see `ReadinessCheck.reason`).
        public var error: String?
    }

    let checks: [ReadinessCheck]
    let timeout: Duration
    let gauges: [String: Gauge]
    let logger: Logger

    public init(
        checks: [ReadinessCheck], timeout: Duration = .seconds(2),
        logger: Logger = Logger(label: "keel.readiness")
    ) {
        self.checks = checks
        self.timeout = timeout
        self.logger = logger
        self.gauges = Dictionary(
            uniqueKeysWithValues: checks.map {
                ($0.name, Gauge(label: "keel_dependency_up", dimensions: [("dependency", $0.name)]))
            })
    }

    /// Runs every check concurrently; a check that takes longer than the timeout counts as failed.
    public func evaluate() async -> [Result] {
        await withTaskGroup(of: Result.self) { group in
            for check in checks {
                group.addTask { await run(check) }
            }
            var results: [Result] = []
            for await result in group {
                gauges[result.name]?.record(result.ready ? 1 : 0)
                results.append(result)
            }
            return results.sorted { $0.name < $1.name }
        }
    }

    func run(_ check: ReadinessCheck) async -> Result {
        let timeout = self.timeout
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await check.probe() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw ReadinessTimeout(timeout: timeout)
                }
                defer { group.cancelAll() }
                try await group.next()
            }
            return Result(name: check.name, ready: true, error: nil)
        } catch {
            logger.warning(
                "readiness check failed",
                metadata: ["dependency": "\(check.name)", "error": "\(String(describing: error))"])
            let reason = (error as? ReadinessTimeout).map(\.description) ?? check.reason(error)
            return Result(name: check.name, ready: false, error: reason)
        }
    }
}

struct ReadinessTimeout: Error, CustomStringConvertible {
    let timeout: Duration
    var description: String { "no answer within \(timeout)" }
}
