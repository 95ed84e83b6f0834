import Foundation
import Metrics

/// Runs the readiness checks with a time limit each and reports which failed and why.
public struct Readiness: Sendable {
    /// The outcome of one check.
    public struct Result: Sendable, Codable, Equatable {
        public var name: String
        public var ready: Bool
        public var error: String?
    }

    let checks: [ReadinessCheck]
    let timeout: Duration
    let gauges: [String: Gauge]

    public init(checks: [ReadinessCheck], timeout: Duration = .seconds(2)) {
        self.checks = checks
        self.timeout = timeout
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
            return Result(name: check.name, ready: false, error: String(describing: error))
        }
    }
}

struct ReadinessTimeout: Error, CustomStringConvertible {
    let timeout: Duration
    var description: String { "no answer within \(timeout)" }
}
