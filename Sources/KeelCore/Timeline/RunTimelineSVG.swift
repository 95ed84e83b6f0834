/// A run's timeline as a picture (SVG): one row per step, one bar per attempt (so retries and the
/// attempts of a later pass are separate bars), each bar split into its queued, running and waiting
/// stretches and coloured by how the attempt ended, over an axis of offsets from the trigger, with a
/// legend. `keel run show --svg` writes it; the approval page inlines it. A run that spent something or
/// has a budget gets a line under the title with its usage (against the limits), and each budget gate a
/// dashed amber line where it opened.
///
/// Pure: no clock, no I/O, no scripts. Every bar and line has a `<title>` (a tooltip, and what a screen
/// reader says); every piece of text from the run is escaped.
public enum RunTimelineSVG {
    /// The picture of `run`. An unfinished run is drawn up to `now` (or its latest recorded time).
    public static func render(_ run: RunTimeline, now: Timestamp? = nil) -> String {
        Drawing(run: run, now: now).document()
    }

    /// The colour of an attempt's running and waiting stretches, by its outcome (nil: still in flight).
    static func colour(_ outcome: AttemptTimeline.Outcome?) -> String {
        switch outcome {
        case .succeeded: "#2da44e"
        case .partial: "#bf8700"
        case .failed: "#cf222e"
        case .timedOut: "#bc4c00"
        case .cancelled: "#6e7781"
        case .changesRequested: "#8250df"
        case nil: "#0969da"
        }
    }

    static let queuedColour = "#d0d7de"

    /// What the legend calls an outcome.
    static func name(_ outcome: AttemptTimeline.Outcome?) -> String {
        switch outcome {
        case .succeeded: "succeeded"
        case .partial: "partial"
        case .failed: "failed"
        case .timedOut: "timed out"
        case .cancelled: "cancelled"
        case .changesRequested: "changes requested"
        case nil: "in progress"
        }
    }
}

/// The layout of one picture and the markup it makes.
private struct Drawing {
    let run: RunTimeline
    let origin: Timestamp
    let end: Timestamp
    let axis: TimelineAxis

    let width = 960.0
    let labelWidth = 200.0
    let rightMargin = 30.0
    let headerHeight: Double
    let rowHeight = 26.0
    let barHeight = 14.0
    let font = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\""

    init(run: RunTimeline, now: Timestamp?) {
        self.run = run
        origin = run.triggeredAt
        let recorded = Self.latestTime(in: run)
        end = run.finishedAt ?? max(now ?? recorded, recorded)
        axis = TimelineAxis(spanMilliseconds: end.millisecondsSinceEpoch - origin.millisecondsSinceEpoch)
        headerHeight = Self.usageLine(of: run) == nil ? 44 : 60
    }

    /// `usage: 1.9M of 2M tokens, 3.5 machine minutes`, for a run that spent something or has a budget.
    static func usageLine(of run: RunTimeline) -> String? {
        guard !run.usage.isZero || run.budget != nil else { return nil }
        return "usage: " + run.usage.text(limits: run.budget?.limits, currency: run.budget?.currency)
    }

    static let budgetColour = "#bf8700"

    var plotLeft: Double { labelWidth + 10 }
    var plotWidth: Double { width - plotLeft - rightMargin }
    var rowsBottom: Double { headerHeight + rowHeight * Double(max(run.steps.count, 1)) }

    func x(_ time: Timestamp) -> Double {
        let offset = Double(time.millisecondsSinceEpoch - origin.millisecondsSinceEpoch)
        return plotLeft + max(0, offset) / Double(axis.spanMilliseconds) * plotWidth
    }

    func offset(_ time: Timestamp) -> String {
        "+" + TimelineAxis.duration(max(0, time.millisecondsSinceEpoch - origin.millisecondsSinceEpoch))
    }

    func document() -> String {
        let legend = legendItems()
        let height = rowsBottom + 40 + legend.height + 10
        let n = SVGText.number
        var status = run.status.rawValue
        if let reason = run.reason { status += ": \(reason)" }
        if run.pass > 1 { status += " (pass \(run.pass))" }
        let took = run.durationMilliseconds.map { ", took \(TimelineAxis.duration($0))" } ?? ""
        let heading = "\(run.flow) v\(run.version) · run \(run.runID) · \(status)\(took)"
        let description =
            "\(run.steps.count) steps, triggered \(run.triggeredAt) by \(run.trigger.actor ?? "a schedule"); "
            + "one bar per attempt: grey while queued, coloured by outcome while running, lighter while waiting."
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" class="run-timeline" width="\(n(width))" \
            height="\(n(height))" viewBox="0 0 \(n(width)) \(n(height))" role="img" \
            aria-labelledby="run-timeline-title run-timeline-desc" \(font) font-size="12">
            <title id="run-timeline-title">\(SVGText.escape("Run \(run.runID) of \(run.flow) v\(run.version): \(status)"))</title>
            <desc id="run-timeline-desc">\(SVGText.escape(description))</desc>
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="12" y="24" font-size="14" font-weight="600" fill="#1f2328">\(SVGText.escape(SVGText.truncated(heading, limit: 120)))</text>

            """
        if let usage = Self.usageLine(of: run) {
            svg += """
                <text class="usage" x="12" y="42" fill="#57606a">\(SVGText.escape(SVGText.truncated(usage, limit: 140)))</text>

                """
        }
        svg += grid()
        for (index, step) in run.steps.enumerated() {
            svg += row(step, index: index)
        }
        svg += runMarks()
        svg += legend.markup
        svg += "</svg>\n"
        return svg
    }

    /// Ticks and their labels under the rows, and faint lines up through them.
    private func grid() -> String {
        let n = SVGText.number
        var markup = "<g class=\"axis\" fill=\"#57606a\" stroke=\"#d8dee4\">\n"
        for tick in axis.ticks {
            let position = plotLeft + Double(tick) / Double(axis.spanMilliseconds) * plotWidth
            markup += """
                <line x1="\(n(position))" y1="\(n(headerHeight - 4))" x2="\(n(position))" y2="\(n(rowsBottom + 4))"/>
                <text x="\(n(position))" y="\(n(rowsBottom + 18))" text-anchor="middle" stroke="none">\(TimelineAxis.label(tick))</text>

                """
        }
        markup += """
            <line x1="\(n(plotLeft))" y1="\(n(rowsBottom + 4))" x2="\(n(plotLeft + plotWidth))" y2="\(n(rowsBottom + 4))" stroke="#8c959f"/>
            </g>

            """
        return markup
    }

    /// One step: its name and kind on the left, a bar per attempt on the right.
    private func row(_ step: StepTimeline, index: Int) -> String {
        let n = SVGText.number
        let top = headerHeight + rowHeight * Double(index)
        let middle = top + rowHeight / 2
        let label = SVGText.truncated(step.id, limit: 24) + " (\(step.kind))"
        var status = step.status.rawValue
        if let message = step.message { status += ": \(message)" }
        var markup = """
            <g class="step">
            <title>\(SVGText.escape("\(step.id) (\(step.kind)): \(status), \(step.attempts.count) attempt\(step.attempts.count == 1 ? "" : "s")"))</title>
            <text x="12" y="\(n(middle + 4))" fill="#1f2328">\(SVGText.escape(label))</text>
            </g>

            """
        if index % 2 == 1 {
            markup =
                "<rect x=\"0\" y=\"\(n(top))\" width=\"\(n(width))\" height=\"\(n(rowHeight))\" fill=\"#f6f8fa\"/>\n"
                + markup
        }
        for attempt in step.attempts {
            markup += bar(attempt, step: step, top: middle - barHeight / 2)
        }
        return markup
    }

    /// One attempt: its stretches side by side, outlined in white so back-to-back attempts stay apart.
    private func bar(_ attempt: AttemptTimeline, step: StepTimeline, top: Double) -> String {
        let n = SVGText.number
        let colour = RunTimelineSVG.colour(attempt.outcome)
        let segments = TimelineSegment.segments(of: attempt, end: end)
        var markup = """
            <g class="attempt" data-step="\(SVGText.escape(step.id))" data-attempt="\(attempt.attempt)" \
            data-outcome="\(attempt.outcome?.rawValue ?? "in_progress")">
            <title>\(SVGText.escape(tooltip(attempt, step: step)))</title>

            """
        for segment in segments {
            let left = x(segment.start)
            // At least a sliver, so an instant attempt (a noop, a rejected approval) is still seen.
            let span = max(x(segment.end) - left, 2)
            let fill: String
            switch segment.phase {
            case .queued: fill = "fill=\"\(RunTimelineSVG.queuedColour)\""
            case .running: fill = "fill=\"\(colour)\""
            case .waiting: fill = "fill=\"\(colour)\" fill-opacity=\"0.4\""
            }
            markup += """
                <rect class="\(segment.phase.rawValue)" x="\(n(left))" y="\(n(top))" width="\(n(span))" \
                height="\(n(barHeight))" \(fill) stroke="#ffffff" stroke-width="1"/>

                """
        }
        if segments.isEmpty {
            markup += """
                <rect class="instant" x="\(n(x(attempt.scheduledAt)))" y="\(n(top))" width="2" \
                height="\(n(barHeight))" fill="\(colour)"/>

                """
        }
        return markup + "</g>\n"
    }

    private func tooltip(_ attempt: AttemptTimeline, step: StepTimeline) -> String {
        var parts = [
            "\(step.id), attempt \(attempt.attempt)" + (run.pass > 1 ? " (pass \(attempt.pass))" : "")
        ]
        parts.append(RunTimelineSVG.name(attempt.outcome))
        parts.append("scheduled \(offset(attempt.scheduledAt))")
        if let queued = attempt.queueMilliseconds {
            parts.append("queued \(TimelineAxis.duration(max(0, queued)))")
        }
        if let executor = attempt.executor { parts.append("on \(executor)") }
        if let wait = attempt.wait {
            parts.append("waited from \(offset(wait.openedAt)) (\(wait.heartbeats) heartbeats)")
        }
        if let approval = attempt.approval {
            var decided = "approval requested \(offset(approval.requestedAt))"
            if let decision = approval.decision {
                decided += ", \(decision.rawValue) by \(approval.actor ?? "its timeout")"
            }
            parts.append(decided)
        }
        if let took = attempt.durationMilliseconds {
            parts.append("took \(TimelineAxis.duration(max(0, took)))")
        }
        if let message = attempt.message {
            let error = attempt.errorClass.map { "\($0.rawValue): " } ?? ""
            parts.append(error + SVGText.truncated(message, limit: 200))
        }
        if let retry = attempt.retry {
            parts.append("retried as attempt \(retry.attempt) at \(offset(retry.dueAt))")
        }
        return parts.joined(separator: "; ")
    }

    /// Dashed lines across the rows where someone retried the run from a step or cancelled it.
    private func runMarks() -> String {
        var marks: [(Timestamp, String, String)] = run.retries.map {
            ($0.at, "#8250df", "retry from \($0.fromStep) (pass \($0.pass + 1)) by \($0.actor ?? "someone")")
        }
        if let cancel = run.cancellation {
            marks.append(
                (cancel.at, "#6e7781", "cancel requested by \(cancel.actor ?? "someone"): \(cancel.reason)"))
        }
        for gate in run.budget?.gates ?? [] {
            var text = "budget gate \(gate.number) before \(gate.step): \(gate.summary)"
            if let decision = gate.decision {
                text += " — \(decision == .approve ? "approved" : "refused") by \(gate.actor ?? "someone")"
                if let decidedAt = gate.decidedAt { text += " at \(offset(decidedAt))" }
            } else {
                text += " — waiting for approvers"
            }
            marks.append((gate.openedAt, Self.budgetColour, text))
        }
        let n = SVGText.number
        return marks.map { at, colour, text in
            """
            <g class="\(colour == Self.budgetColour ? "budget-gate" : "run-mark")"><title>\(SVGText.escape("\(offset(at)): \(text)"))</title>
            <line x1="\(n(x(at)))" y1="\(n(headerHeight - 6))" x2="\(n(x(at)))" y2="\(n(rowsBottom + 4))" \
            stroke="\(colour)" stroke-width="2" stroke-dasharray="4 3"/></g>

            """
        }.joined()
    }

    /// Swatches for queued, each outcome and waiting, wrapped onto as many lines as they need.
    private func legendItems() -> (markup: String, height: Double) {
        let n = SVGText.number
        let outcomes: [AttemptTimeline.Outcome?] = [nil] + AttemptTimeline.Outcome.allCases.map { $0 }
        var items: [(label: String, fill: String)] = [("queued", "fill=\"\(RunTimelineSVG.queuedColour)\"")]
        items += outcomes.map {
            ("running: \(RunTimelineSVG.name($0))", "fill=\"\(RunTimelineSVG.colour($0))\"")
        }
        items.append(("waiting (callback, approval)", "fill=\"#2da44e\" fill-opacity=\"0.4\""))
        if run.budget?.gates.isEmpty == false {
            items.append(("budget gate", "fill=\"\(Self.budgetColour)\""))
        }
        var markup = "<g class=\"legend\" fill=\"#1f2328\">\n"
        var left = 12.0
        var line = 0.0
        let top = rowsBottom + 32
        for item in items {
            let itemWidth = 22 + Double(item.label.count) * 6.6 + 16
            if left + itemWidth > width - 12 {
                left = 12
                line += 1
            }
            let y = top + line * 20
            markup += """
                <rect x="\(n(left))" y="\(n(y))" width="14" height="12" \(item.fill)/>\
                <text x="\(n(left + 20))" y="\(n(y + 10))">\(SVGText.escape(item.label))</text>

                """
            left += itemWidth
        }
        return (markup + "</g>\n", (line + 1) * 20)
    }

    /// The latest time the timeline records, for drawing a run that has not finished.
    static func latestTime(in run: RunTimeline) -> Timestamp {
        var latest = run.triggeredAt
        for attempt in run.steps.flatMap(\.attempts) {
            let times: [Timestamp?] = [
                attempt.scheduledAt, attempt.startedAt, attempt.finishedAt, attempt.wait?.openedAt,
                attempt.wait?.lastHeartbeatAt, attempt.wait?.callbackAt, attempt.approval?.requestedAt,
                attempt.approval?.decidedAt,
            ]
            latest = max(latest, times.compactMap { $0 }.max() ?? latest)
        }
        for retry in run.retries { latest = max(latest, retry.at) }
        if let cancel = run.cancellation { latest = max(latest, cancel.at) }
        for gate in run.budget?.gates ?? [] {
            latest = max(latest, gate.decidedAt ?? gate.openedAt)
        }
        return latest
    }
}
