import Foundation
import KeelCore

/// `keel stats` for people: a summary, then tables of latencies, flow versions and recoveries.
enum StatsText {
    static func render(_ report: StatsReport) -> String {
        let stats = report.statistics
        let runs = stats.runs
        var lines = [
            "runs of \(report.flow ?? "every flow") created since \(report.since)",
            "runs: \(runs.total) (succeeded \(runs.succeeded), failed \(runs.failed), cancelled "
                + "\(runs.cancelled), unfinished \(runs.unfinished))",
            "success rate: \(stats.successRate.map(percent) ?? "-")",
            "retries: \(stats.retries) by the engine, \(stats.runRetries) requested (keel run retry)",
            "attempts by error class: "
                + ErrorClass.allCases.map { "\($0.rawValue) \(stats.errorClasses[$0] ?? 0)" }
                .joined(separator: ", "),
            "",
            TextTable.render(
                header: ["FIGURE", "COUNT", "P50", "P90", "P99", "MAX"],
                rows: [
                    row("step duration", stats.stepDuration), row("queue time", stats.queueTime),
                    row("wait", stats.waitDuration), row("approval turnaround", stats.approvalTurnaround),
                    row("time to recover", stats.timeToRecover),
                ]),
        ]
        if !stats.steps.isEmpty {
            lines.append("")
            lines.append(
                TextTable.render(
                    header: [
                        "FLOW", "STEP", "KIND", "ATTEMPTS", "RETRIES", "ERRORS", "P50", "P90", "MAX",
                        "QUEUE P50", "QUEUE P90",
                    ],
                    rows: stats.steps.map(stepRow)))
        }
        // Spending, when any run spent or met a budget gate.
        if stats.flows.contains(where: { !$0.usage.isZero || $0.budgetGates > 0 }) {
            lines.append("")
            lines.append(
                TextTable.render(
                    header: ["FLOW", "RUNS", "TOKENS", "MACHINE MINUTES", "MONEY", "BUDGET GATES"],
                    rows: stats.flows.map {
                        [$0.flow, "\($0.runs)"] + amounts($0.usage, currency: $0.currency) + [
                            "\($0.budgetGates) (\($0.budgetGatesApproved) approved, "
                                + "\($0.budgetGatesRejected) rejected)"
                        ]
                    }))
            let spending = stats.steps.filter { !$0.usage.isZero }
            if !spending.isEmpty {
                lines.append("")
                lines.append(
                    TextTable.render(
                        header: ["FLOW", "STEP", "TOKENS", "MACHINE MINUTES", "MONEY"],
                        rows: spending.map { step in
                            let currency = stats.flows.first { $0.flow == step.flow }?.currency
                            return [step.flow, step.step] + amounts(step.usage, currency: currency)
                        }))
            }
        }
        if !stats.releases.isEmpty {
            lines.append("")
            lines.append(
                TextTable.render(
                    header: [
                        "FLOW", "VERSION", "RUNS", "SUCCEEDED", "FAILED", "CANCELLED", "MADE LIVE",
                        "ROLLBACKS",
                    ],
                    rows: stats.releases.map {
                        [
                            $0.flow, "v\($0.version)", "\($0.runs.total)", "\($0.runs.succeeded)",
                            "\($0.runs.failed)", "\($0.runs.cancelled)", "\($0.madeLive)", "\($0.rollbacks)",
                        ]
                    }))
        }
        if !stats.recoveries.isEmpty {
            lines.append("")
            lines.append(
                TextTable.render(
                    header: ["FLOW", "FAILED RUN", "FAILED AT", "RECOVERED BY", "TIME TO RECOVER"],
                    rows: stats.recoveries.map(recoveryRow)))
        }
        return lines.joined(separator: "\n")
    }

    private static func stepRow(_ step: RunStatistics.StepFigures) -> [String] {
        [
            step.flow, step.step, step.kind, "\(step.attempts)", "\(step.retries)",
            "\(step.errorClasses.values.reduce(0, +))",
        ]
            + [
                step.duration.p50, step.duration.p90, step.duration.max, step.queueTime.p50,
                step.queueTime.p90,
            ]
            .map { $0.map(RunTimelineText.seconds) ?? "-" }
    }

    private static func recoveryRow(_ recovery: RunStatistics.Recovery) -> [String] {
        var recoveredBy = "not yet"
        if let run = recovery.recoveredRunID, let version = recovery.recoveredVersion {
            recoveredBy = "\(run) (v\(version))"
        }
        return [
            recovery.flow, "\(recovery.failedRunID) (v\(recovery.failedVersion))", "\(recovery.failedAt)",
            recoveredBy, recovery.milliseconds.map(RunTimelineText.seconds) ?? "-",
        ]
    }

    private static func row(_ name: String, _ summary: DurationSummary) -> [String] {
        [name, "\(summary.count)"]
            + [summary.p50, summary.p90, summary.p99, summary.max].map {
                $0.map(RunTimelineText.seconds) ?? "-"
            }
    }

    /// Tokens, machine minutes and money, at most two decimals; money with its currency.
    private static func amounts(_ usage: Usage, currency: String?) -> [String] {
        UsageDimension.allCases.map { dimension in
            let text = usage[dimension].formatted(.number.precision(.fractionLength(0...2)).grouping(.never))
            return dimension == .money && usage.money > 0 ? text + (currency.map { " \($0)" } ?? "") : text
        }
    }

    /// `75.0%`.
    private static func percent(_ rate: Double) -> String {
        let tenths = Int((rate * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
