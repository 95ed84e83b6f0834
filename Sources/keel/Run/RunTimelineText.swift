import KeelCore

/// `keel run show`'s text: a header for the run, then one block per step with its attempts. Times are
/// offsets from the trigger (`+1.250s`), so a run reads at a glance without date arithmetic.
enum RunTimelineText {
    static func render(_ timeline: RunTimeline) -> String {
        var lines = header(timeline)
        for step in timeline.steps {
            lines.append("")
            lines += block(step, in: timeline)
        }
        return lines.joined(separator: "\n")
    }

    static func header(_ run: RunTimeline) -> [String] {
        let origin = run.triggeredAt
        var status = run.status.rawValue
        if let reason = run.reason { status += ": \(reason)" }
        if run.pass > 1 { status += " (pass \(run.pass))" }
        var lines = [
            "run:         \(run.runID)",
            "flow:        \(run.flow) v\(run.version)",
            "status:      \(status)",
            "actor:       \(run.trigger.actor ?? "(schedule)") (claimed)",
            "requester:   \(run.trigger.requester ?? "(not authenticated)")",
            "correlation: \(run.trigger.correlationID)",
            "key:         \(run.trigger.idempotencyKey)",
            "input:       \(run.trigger.inputSummary())",
            "created:     \(run.triggeredAt)",
        ]
        if let parent = run.parent {
            lines.append("parent:      \(parent.runID) (step \(parent.step))")
        }
        for child in run.children {
            lines.append("child:       \(child.runID) (step \(child.step), \(child.flow), \(child.status))")
        }
        if let finishedAt = run.finishedAt, let duration = run.durationMilliseconds {
            lines.append("finished:    \(finishedAt)")
            lines.append("duration:    \(seconds(duration))")
        }
        if !run.usage.isZero || run.budget != nil {
            lines.append(
                "usage:       \(UsageText.render(run.usage, limits: run.budget?.limits, currency: run.budget?.currency))"
            )
        }
        for gate in run.budget?.gates ?? [] {
            var line =
                "budget gate: \(offset(gate.openedAt, from: origin)) before \(gate.step): \(gate.summary)"
            if let decision = gate.decision, let decidedAt = gate.decidedAt {
                line += " — \(decision.rawValue)d at \(offset(decidedAt, from: origin))\(by(gate.actor))"
            }
            lines.append(line)
        }
        if let cancel = run.cancellation {
            lines.append(
                "cancelled:   \(offset(cancel.at, from: origin))\(by(cancel.actor)): \(cancel.reason)")
        }
        for retry in run.retries {
            lines.append(
                "retried:     \(offset(retry.at, from: origin))\(by(retry.actor)) from \(retry.fromStep) "
                    + "(pass \(retry.pass) → \(retry.pass + 1))")
        }
        return lines
    }

    static func block(_ step: StepTimeline, in run: RunTimeline) -> [String] {
        var title = "\(step.id) (\(step.kind)): \(step.status.rawValue)"
        // The class adds nothing to a status that already says it (cancelled, timed out).
        if let errorClass = step.errorClass, [.failed, .partial].contains(step.status) {
            title += " [\(errorClass.rawValue)]"
        }
        if let message = step.message { title += ": " + indented(message, by: 4) }
        var lines = [title]
        if !step.usage.isZero {
            lines.append("  usage: \(UsageText.render(step.usage, limits: nil, currency: nil))")
        }
        if !step.needs.isEmpty { lines.append("  needs: \(step.needs.joined(separator: ", "))") }
        for attempt in step.attempts {
            lines += self.attempt(attempt, origin: run.triggeredAt, passes: run.pass > 1)
        }
        return lines
    }

    static func attempt(_ attempt: AttemptTimeline, origin: Timestamp, passes: Bool) -> [String] {
        var first = "  #\(attempt.attempt)"
        if passes { first += " (pass \(attempt.pass))" }
        if (attempt.wait == nil && attempt.approval == nil) || attempt.startedAt != nil {
            first += "  scheduled \(offset(attempt.scheduledAt, from: origin))"
        }
        if let startedAt = attempt.startedAt {
            first += "  started \(offset(startedAt, from: origin))"
            if let queue = attempt.queueMilliseconds { first += " (queued \(seconds(queue)))" }
            if let executor = attempt.executor {
                first += " on \(executor)"
                if attempt.claims > 1 { first += " (claimed \(attempt.claims) times)" }
            }
        }
        var lines = [first]
        if let wait = attempt.wait {
            var line = "      wait \(wait.id) opened \(offset(wait.openedAt, from: origin))"
            if wait.heartbeats > 0 { line += ", \(wait.heartbeats) heartbeat(s)" }
            if let at = wait.callbackAt, let status = wait.callbackStatus {
                line += ", callback \(status.rawValue) \(offset(at, from: origin))"
            }
            lines.append(line)
        }
        if let approval = attempt.approval {
            var line = "      approval \(approval.id) requested \(offset(approval.requestedAt, from: origin))"
            if let decision = approval.decision, let at = approval.decidedAt {
                line += ", \(decision.rawValue)\(by(approval.actor)) \(offset(at, from: origin))"
                if let note = approval.note { line += ": \(note)" }
            }
            lines.append(line)
            if let summary = approval.summary { lines.append("      summary: \(summary)") }
        }
        if let change = attempt.changeRequest {
            lines.append(
                "      changes requested (round \(change.round))\(by(change.actor))"
                    + (change.note.map { ": \($0)" } ?? ""))
        }
        if let outcome = attempt.outcome, let finishedAt = attempt.finishedAt {
            var line = "      \(outcome.rawValue) \(offset(finishedAt, from: origin))"
            if let duration = attempt.durationMilliseconds { line += " after \(seconds(duration))" }
            if let errorClass = attempt.errorClass, outcome == .failed { line += " [\(errorClass.rawValue)]" }
            if let message = attempt.message { line += ": " + indented(message, by: 8) }
            lines.append(line)
        } else {
            lines.append("      in flight")
        }
        if let retry = attempt.retry {
            lines.append(
                "      retry as #\(retry.attempt) after \(retry.delay), due \(offset(retry.dueAt, from: origin))"
            )
        }
        if !attempt.resources.isEmpty {
            lines.append("      resources: " + attempt.resources.map(\.description).joined(separator: ", "))
        }
        return lines
    }

    /// `+1.250s` from the trigger.
    static func offset(_ time: Timestamp, from origin: Timestamp) -> String {
        let milliseconds = time.millisecondsSinceEpoch - origin.millisecondsSinceEpoch
        return (milliseconds < 0 ? "-" : "+") + seconds(abs(milliseconds))
    }

    /// `1.250s`.
    static func seconds(_ milliseconds: Int64) -> String {
        let magnitude = abs(milliseconds)
        let fraction = String(magnitude % 1000)
        return (milliseconds < 0 ? "-" : "") + "\(magnitude / 1000)."
            + String(repeating: "0", count: 3 - fraction.count) + fraction + "s"
    }

    /// Continuation lines of a multi-line message (an executor's stderr tail), kept inside their block.
    private static func indented(_ message: String, by width: Int) -> String {
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
        let margin = String(repeating: " ", count: width)
        return lines.enumerated().map { $0.offset == 0 ? String($0.element) : margin + $0.element }
            .joined(separator: "\n")
    }

    private static func by(_ actor: String?) -> String {
        actor.map { " by \($0)" } ?? ""
    }
}
