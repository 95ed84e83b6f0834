import Foundation
import Hummingbird
import KeelCore
import KeelStore

/// One run, everything an operator asks about it on one page: the summary (flow, version, status, who
/// started it and for whom, its parent and children), its input, the timeline picture, each step with its
/// attempts, errors and outputs, its approvals with their decisions, the resources it produced (described,
/// never inlined: they may be large) and its full history. Reloads itself while the run is unfinished.
enum RunPage {
    /// What the page shows, read by `ApprovalWeb/runPage(_:context:)`.
    struct Content: Sendable {
        var runID: RunID
        /// Nil when the run's history or flow version cannot be read; the history table still shows.
        var timeline: RunTimeline?
        var history: [RecordedFact]
        var resources: [ResourceRecord]
        /// The run's approvals the viewer may see, by id.
        var approvals: [String: ApprovalRecord]
    }

    static func response(_ content: Content, viewer: PageLayout.Viewer, now: Date) -> Response {
        let live = content.timeline.map { RunsPage.unfinished.contains($0.status.rawValue) } ?? false
        let main: HTML
        if let timeline = content.timeline {
            main = """
                \(summary(timeline))
                <h2>Input</h2>
                <div id="input">\(ConsoleFormat.json(timeline.trigger.input))</div>
                <h2>Timeline</h2>
                \(TimelineView.render(timeline, now: Timestamp(now)))
                <h2>Steps</h2>
                \(timeline.steps.map { step($0, origin: timeline.triggeredAt) })
                <h2>Approvals</h2>
                \(approvals(timeline, records: content.approvals))
                """
        } else {
            main = PageLayout.message(
                "This run's timeline cannot be read (the error is in the service's log); its history is below.",
                kind: "error")
        }
        let body: HTML = """
            <h1>Run <code id="run-id">\(content.runID)</code></h1>
            \(main)
            <h2>Resources</h2>
            \(resources(content.resources))
            <h2>History</h2>
            \(history(content.history))
            <p><a href="\(ConsoleLinks.runs)">All runs</a></p>
            """
        let title = content.timeline.map { "\($0.flow) run" } ?? "Run"
        return PageLayout.response(
            title: title, viewer: viewer, body: body, refresh: live ? RunsPage.refreshSeconds : nil,
            section: ConsoleLinks.runs)
    }

    /// The 404 page for an id that is malformed or names no run.
    static func notFound(_ id: String, viewer: PageLayout.Viewer) -> Response {
        PageLayout.response(
            status: .notFound, title: "Not found", viewer: viewer,
            body: """
                <h1>Not found</h1>
                \(PageLayout.message("There is no run \(id).", kind: "error"))
                <p><a href="\(ConsoleLinks.runs)">All runs</a></p>
                """, section: ConsoleLinks.runs)
    }

    private static func summary(_ run: RunTimeline) -> HTML {
        var status: HTML = PageLayout.status(run.status.rawValue)
        if let reason = run.reason { status = "\(status) \(reason)" }
        if run.pass > 1 { status = "\(status) <small>(pass \(run.pass))</small>" }
        var rows: [HTML] = [
            """
            <dt>Flow</dt><dd><a href="\(ConsoleLinks.flow(run.flow))">\(run.flow)</a> v\(run.version)</dd>
            """,
            "<dt>Status</dt><dd id=\"status\">\(status)</dd>",
            "<dt>Actor</dt><dd>\(run.trigger.actor ?? "a schedule")</dd>",
            "<dt>Requester</dt><dd>\(run.trigger.requester ?? "—")</dd>",
            "<dt>Correlation id</dt><dd><code>\(run.trigger.correlationID)</code></dd>",
            "<dt>Idempotency key</dt><dd><code>\(run.trigger.idempotencyKey)</code></dd>",
            "<dt>Triggered</dt><dd>\(ConsoleFormat.time(run.triggeredAt))</dd>",
        ]
        if let finished = run.finishedAt {
            let took = run.durationMilliseconds.map { " (took \(TimelineView.seconds($0)))" } ?? ""
            rows.append("<dt>Finished</dt><dd>\(ConsoleFormat.time(finished))\(took)</dd>")
        }
        if let parent = run.parent {
            rows.append(
                """
                <dt>Parent</dt><dd><a href="\(ConsoleLinks.run(parent.runID))"><code>\(parent.runID)</code></a> \
                (step \(parent.step))</dd>
                """)
        }
        if !run.children.isEmpty {
            let children = run.children.map { child -> HTML in
                """
                <li><a href="\(ConsoleLinks.run(child.runID))"><code>\(ConsoleFormat.shortID(child.runID))</code></a> \
                \(child.flow), from step \(child.step): \(PageLayout.status(child.status))</li>
                """
            }
            rows.append("<dt>Children</dt><dd><ul id=\"children\">\(children)</ul></dd>")
        }
        if let cancellation = run.cancellation {
            rows.append(
                """
                <dt>Cancelled</dt><dd>\(ConsoleFormat.time(cancellation.at)) by \(cancellation.actor ?? "the engine"): \
                \(cancellation.reason)</dd>
                """)
        }
        for retry in run.retries {
            rows.append(
                """
                <dt>Retried</dt><dd>\(ConsoleFormat.time(retry.at)) from \(retry.fromStep) by \
                \(retry.actor ?? "—") (pass \(retry.pass))</dd>
                """)
        }
        return "<dl class=\"run\">\(rows)</dl>"
    }

    private static func step(_ step: StepTimeline, origin: Timestamp) -> HTML {
        let message: HTML =
            step.message.map { message in
                "<p class=\"step-message\">\(step.errorClass.map { "\($0.rawValue): " } ?? "")\(message)</p>"
            } ?? .empty
        let attempts: HTML =
            step.attempts.isEmpty
            ? "<p class=\"muted\">No attempts.</p>"
            : """
            <table class="attempts">
            <thead><tr><th>Attempt</th><th>Outcome</th><th>Executor</th><th>Began</th><th>Took</th>\
            <th>Error</th><th>Outputs</th></tr></thead>
            <tbody>
            \(step.attempts.map { attempt($0, origin: origin) })
            </tbody>
            </table>
            """
        return """
            <section class="step" id="step-\(step.id)">
            <h3>\(step.id) <small>(\(step.kind))</small> \(PageLayout.status(step.status.rawValue))</h3>
            \(message)
            \(attempts)
            </section>
            """
    }

    private static func attempt(_ attempt: AttemptTimeline, origin: Timestamp) -> HTML {
        let outcome: HTML =
            attempt.outcome.map { PageLayout.status($0.rawValue) }
            ?? (attempt.isInFlight ? "in progress" : "—")
        let took = attempt.durationMilliseconds.map(TimelineView.seconds) ?? "—"
        var error: [HTML] = []
        if let errorClass = attempt.errorClass { error.append("<strong>\(errorClass.rawValue)</strong> ") }
        if let timeout = attempt.timeout { error.append("(\(timeout.rawValue) timeout) ") }
        if let message = attempt.message { error.append("<span class=\"error-message\">\(message)</span>") }
        if let retry = attempt.retry {
            error.append(
                "<br><small>retry as attempt \(retry.attempt) after \(retry.delay.description)</small>")
        }
        var outputs: [HTML] = []
        if !attempt.outputs.isEmpty { outputs.append(ConsoleFormat.json(.object(attempt.outputs))) }
        if let change = attempt.changeRequest {
            outputs.append(
                """
                <p>Changes requested (round \(change.round)) by \(change.actor ?? "—")\
                \(change.note.map { ": \($0)" } ?? "")</p>
                """)
        }
        let executor = attempt.executor.map { $0 + (attempt.claims > 1 ? " (\(attempt.claims) claims)" : "") }
        return """
            <tr><td>\(attempt.attempt)\(attempt.pass > 1 ? " (pass \(attempt.pass))" : "")</td>\
            <td>\(outcome)</td><td>\(executor ?? "—")</td>\
            <td>\(TimelineView.offset(attempt.scheduledAt, from: origin))</td><td>\(took)</td>\
            <td>\(error)</td><td>\(outputs)</td></tr>

            """
    }

    /// Each approval the run asked for: its decisions as the approvals store has them when the viewer
    /// may see it, else the outcome the run's history records.
    private static func approvals(_ run: RunTimeline, records: [String: ApprovalRecord]) -> HTML {
        let asked = run.steps.flatMap { step in step.attempts.compactMap { $0.approval } }
        guard !asked.isEmpty else { return "<p>This run asked for no approval.</p>" }
        let sections = asked.map { approval -> HTML in
            let link: HTML = "<a href=\"\(ApprovalLinks.page(approval.id))\"><code>\(approval.id)</code></a>"
            guard let record = records[approval.id] else {
                let decided: HTML =
                    approval.decision.map { decision in
                        """
                        \(PageLayout.status(decision.rawValue)) by \(approval.actor ?? "its timeout")\
                        \(approval.note.map { ": \($0)" } ?? "")
                        """
                    } ?? PageLayout.status("pending")
                return "<section class=\"approval\"><h3>\(link)</h3><p>\(decided)</p></section>"
            }
            let decisions = record.decisions.map { decision -> HTML in
                """
                <tr><td>\(decision.approver)</td><td>\(PageLayout.status(decision.decision.rawValue))</td>\
                <td>\(decision.note ?? "")</td><td>\(ConsoleFormat.time(decision.decidedAt))</td></tr>

                """
            }
            let table: HTML =
                record.decisions.isEmpty
                ? "<p>No decisions yet.</p>"
                : """
                <table class="decisions">
                <thead><tr><th>Approver</th><th>Decision</th><th>Note</th><th>At</th></tr></thead>
                <tbody>
                \(decisions)
                </tbody>
                </table>
                """
            return """
                <section class="approval"><h3>\(link) \(PageLayout.status(record.status.rawValue))</h3>
                <p>\(record.summary ?? "(no summary)") · approvers: \(record.approvers.joined(separator: ", ")) \
                · \(record.approvalCount) of \(record.requiredApprovals) approvals</p>
                \(table)
                </section>
                """
        }
        return "\(sections)"
    }

    private static func resources(_ resources: [ResourceRecord]) -> HTML {
        guard !resources.isEmpty else { return "<p>This run produced no resources.</p>" }
        let rows = resources.map { resource -> HTML in
            let producer = resource.producer.map { producer in
                [producer.step, producer.attempt.map { "attempt \($0)" }].compactMap { $0 }.joined(
                    separator: ", ")
            }
            return """
                <tr><td>\(resource.name ?? "—")</td><td>\(resource.mediaType)</td>\
                <td>\(ConsoleFormat.size(resource.size))</td>\
                <td><code title="\(resource.reference.description)">\(resource.reference.sha256.prefix(16))…</code></td>\
                <td>\(producer ?? "—")</td><td>\(ConsoleFormat.time(resource.createdAt))</td></tr>

                """
        }
        return """
            <table class="resources">
            <thead><tr><th>Name</th><th>Media type</th><th>Size</th><th>SHA-256</th><th>Step</th><th>Stored</th>\
            </tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            """
    }

    private static func history(_ facts: [RecordedFact]) -> HTML {
        let rows = facts.map { fact -> HTML in
            """
            <tr><td>\(fact.seq)</td><td>\(ConsoleFormat.time(fact.recordedAt))</td><td>\(fact.entry.kind)</td>\
            <td>\(fact.entry.step ?? "")</td><td>\(fact.entry.attempt.map(String.init) ?? "")</td>\
            <td>\(fact.entry.actor ?? "")</td><td>\(fact.entry.errorClass ?? "")</td>\
            <td><details><summary>fact</summary>\(ConsoleFormat.json(text: fact.entry.fact))</details></td></tr>

            """
        }
        return """
            <table class="history">
            <thead><tr><th>#</th><th>Recorded</th><th>Kind</th><th>Step</th><th>Attempt</th><th>Actor</th>\
            <th>Error class</th><th>Fact</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            """
    }
}
