import KeelCore

/// The run's timeline so far, as `keel run show` arranges it: one row per step with its status, its
/// attempts and when the last one began and how long it took, as offsets from the trigger; above it, the
/// same run as a picture (inline SVG: no script, nothing fetched, so the page's CSP allows it).
enum TimelineView {
    static func render(_ run: RunTimeline, now: Timestamp) -> HTML {
        var status = run.status.rawValue
        if let reason = run.reason { status += ": \(reason)" }
        if run.pass > 1 { status += " (pass \(run.pass))" }
        let rows = run.steps.map { row($0, origin: run.triggeredAt) }
        return """
            <p>Run <code>\(run.runID)</code> of \(run.flow) v\(run.version), \(status); triggered
            \(run.triggeredAt.description) by \(run.trigger.actor ?? "a schedule").</p>
            <figure class="run-timeline">\(HTML(escapedMarkup: RunTimelineSVG.render(run, now: now)))</figure>
            <table class="timeline">
            <thead><tr><th>Step</th><th>Status</th><th>Attempts</th><th>Last began</th><th>Took</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            """
    }

    private static func row(_ step: StepTimeline, origin: Timestamp) -> HTML {
        var status = step.status.rawValue
        if let message = step.message { status += ": \(message)" }
        let last = step.attempts.last
        let began = last.map { offset($0.scheduledAt, from: origin) } ?? "—"
        let took = last?.durationMilliseconds.map(seconds) ?? (last?.isInFlight == true ? "in progress" : "—")
        return """
            <tr><td>\(step.id) <small>(\(step.kind))</small></td><td>\(status)</td>\
            <td>\(step.attempts.count)</td><td>\(began)</td><td>\(took)</td></tr>

            """
    }

    /// `+1.250s`: how long after the trigger.
    static func offset(_ time: Timestamp, from origin: Timestamp) -> String {
        "+" + seconds(time.millisecondsSinceEpoch - origin.millisecondsSinceEpoch)
    }

    static func seconds(_ milliseconds: Int64) -> String {
        let whole = milliseconds / 1000
        let fraction = abs(milliseconds % 1000)
        let padded =
            String(fraction).count < 3 ? String(repeating: "0", count: 3 - String(fraction).count) : ""
        return "\(whole).\(padded)\(fraction)s"
    }
}
