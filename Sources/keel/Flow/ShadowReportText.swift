import KeelCore

/// `keel flow shadow`'s report for people: the totals, the definition changes, then each run with a
/// difference as a table of its steps, changed renderings side by side below their step.
enum ShadowReportText {
    static func noRuns(flow: String, version: Int) -> String {
        "no recorded runs to shadow: flow '\(flow)' has no finished runs of a version other than v\(version)"
    }

    static func render(_ report: ShadowReport) -> String {
        var lines: [String] = []
        let unexplained = report.runsWithUnexplainedDifferences
        lines.append(
            "\(report.flow) v\(report.version) shadowed over \(report.runs.count) recorded run"
                + (report.runs.count == 1 ? "" : "s") + ": \(report.runsWithDifferences) with differences, "
                + (unexplained == 0 ? "none unexplained" : "\(unexplained) with unexplained differences"))
        for diff in report.definitionChanges {
            lines.append("")
            lines.append("definition v\(diff.fromVersion) → v\(diff.toVersion):")
            if diff.isEmpty { lines.append("  no change") }
            for (label, names) in [
                ("changed", diff.changed), ("added", diff.added), ("removed", diff.removed),
                ("settings", diff.settings),
            ] where !names.isEmpty {
                lines.append("  \(label): \(names.joined(separator: ", "))")
            }
        }
        let totals = report.stepTotals
        if !totals.isEmpty {
            lines.append("")
            lines.append(
                TextTable.render(
                    header: ["STEP", "DIFFERENCE", "RUNS", "UNEXPLAINED"],
                    rows: totals.map {
                        [$0.step, $0.difference.rawValue, "\($0.runs)", $0.unexplained ? "yes" : "no"]
                    }))
        }
        for run in report.runs {
            lines.append("")
            lines.append(
                "run \(run.runID) (v\(run.recordedVersion)): live \(run.liveOutcome), shadow \(run.shadowOutcome)"
                    + (run.differences.isEmpty ? ", no differences" : ""))
            guard !run.differences.isEmpty else { continue }
            lines.append(runTable(run))
        }
        return lines.joined(separator: "\n")
    }

    private static func runTable(_ run: ShadowRunReport) -> String {
        var lines: [String] = []
        let rows = run.steps.map { step in
            [
                "  " + step.step, step.definition.rawValue, step.live.description, step.shadow.description,
                difference(step),
            ]
        }
        let table = TextTable.render(
            header: ["  STEP", "DEFINITION", "LIVE", "SHADOW", "DIFFERENCE"], rows: rows)
        let tableLines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.append(tableLines[0])
        for (index, step) in run.steps.enumerated() {
            lines.append(tableLines[index + 1])
            if let live = step.liveAction { lines.append("      live:   " + action(live)) }
            if let shadow = step.shadowAction { lines.append("      shadow: " + action(shadow)) }
        }
        return lines.joined(separator: "\n")
    }

    private static func difference(_ step: ShadowStepReport) -> String {
        var text = step.difference == .none ? "-" : step.difference.rawValue
        if !step.waitingOn.isEmpty { text += " (waiting on \(step.waitingOn.joined(separator: ", ")))" }
        if step.unexplained { text += " UNEXPLAINED" }
        return text
    }

    private static func action(_ json: JSONValue) -> String {
        RenderedAction(json: json.objectValue ?? [:]).summary
    }
}
