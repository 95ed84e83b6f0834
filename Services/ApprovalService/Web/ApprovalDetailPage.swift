import Foundation
import Hummingbird
import KeelCore
import KeelStore

/// One approval: its summary, who may decide and what was decided so far, the run's timeline, the bound
/// artifacts (a diff shown as a diff), and the decision form while it is pending.
enum ApprovalDetailPage {
    /// A line at the top of the page: what just happened, or why it did not.
    struct Message {
        var text: String
        var isError: Bool
    }

    static func response(
        _ approval: ApprovalRecord, timeline: RunTimeline?, artifacts: [BoundArtifact],
        viewer: PageLayout.Viewer, message: Message? = nil, status: HTTPResponse.Status = .ok, now: Date
    ) -> Response {
        let body: HTML = """
            <h1>\(approval.flow) v\(approval.version) · \(approval.step)</h1>
            \(message.map { PageLayout.message($0.text, kind: $0.isError ? "error" : "notice") } ?? .empty)
            <p class="summary" id="summary">\(approval.summary ?? "(no summary)")</p>
            \(facts(approval, now: now))
            <h2>Decisions</h2>
            \(decisions(approval))
            \(approval.status == .pending ? form(approval, viewer: viewer) : .empty)
            <h2>Bound artifacts</h2>
            \(artifacts.isEmpty ? "<p>This approval is bound to nothing.</p>" : artifacts.map(artifact).joined())
            <h2>Run so far</h2>
            \(timeline.map { TimelineView.render($0, now: Timestamp(now)) } ?? "<p>The run's timeline is not available.</p>")
            <p><a href="/approvals">Back to pending approvals</a></p>
            """
        return PageLayout.response(
            status: status, title: "\(approval.flow) · \(approval.step)", viewer: viewer, body: body,
            section: "/approvals")
    }

    private static func facts(_ approval: ApprovalRecord, now: Date) -> HTML {
        let approvals = approval.approvalCount
        var rows: [HTML] = [
            "<dt>Status</dt><dd id=\"status\">\(approval.status.rawValue)</dd>",
            """
            <dt>Run</dt><dd><a href="\(ConsoleLinks.run(approval.runID))"><code>\(approval.runID)</code></a> \
            (attempt \(approval.attempt))</dd>
            """,
            "<dt>Requested by</dt><dd>\(approval.requester ?? "a schedule")</dd>",
            """
            <dt>Requested</dt><dd>\(approval.requestedAt.formatted(.iso8601)) \
            (\(Age.text(from: approval.requestedAt, to: now)) ago)</dd>
            """,
            "<dt>Approvers</dt><dd>\(approval.approvers.joined(separator: ", "))</dd>",
            "<dt>Approvals</dt><dd>\(approvals) of \(approval.requiredApprovals) needed</dd>",
        ]
        if let traceID = approval.traceID {
            rows.append("<dt>Trace</dt><dd><code id=\"trace\">\(traceID)</code></dd>")
        }
        if let timeoutAt = approval.timeoutAt {
            rows.append("<dt>Times out</dt><dd>\(timeoutAt.formatted(.iso8601))</dd>")
        }
        if let closedAt = approval.closedAt {
            rows.append(
                "<dt>Closed</dt><dd>\(closedAt.formatted(.iso8601))\(approval.closedReason.map { ": " + $0 } ?? "")</dd>"
            )
        }
        return "<dl>\(rows)</dl>"
    }

    private static func decisions(_ approval: ApprovalRecord) -> HTML {
        guard !approval.decisions.isEmpty else { return "<p>No decisions yet.</p>" }
        let rows = approval.decisions.map { decision -> HTML in
            """
            <tr><td>\(decision.approver)</td><td>\(decision.decision.rawValue)</td>\
            <td>\(decision.note ?? "")</td><td>\(decision.decidedAt.formatted(.iso8601))</td></tr>

            """
        }
        return """
            <table class="decisions">
            <thead><tr><th>Approver</th><th>Decision</th><th>Note</th><th>At</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            """
    }

    /// One form, three buttons: the note goes with whichever is pressed; the digests are those of the
    /// artifacts this page showed, so a decision never covers content the approver did not see.
    private static func form(_ approval: ApprovalRecord, viewer: PageLayout.Viewer) -> HTML {
        let requestChanges: HTML =
            approval.requestChangesStep.map { step in
                """
                <button id="request-changes" type="submit" name="decision" value="request_changes">\
                Request changes (back to \(step))</button>
                """
            } ?? .empty
        return """
            <form class="decision" method="post" action="\(ApprovalLinks.decision(approval.id))">
            <input type="hidden" name="\(CSRFToken.field)" value="\(viewer.csrf)">
            <input type="hidden" name="digests" value="\(approval.digests.joined(separator: ","))">
            <p><label for="note">Note</label><br><textarea id="note" name="note"></textarea></p>
            <p><button id="approve" type="submit" name="decision" value="approve">Approve</button>
            <button id="reject" type="submit" name="decision" value="reject">Reject</button>
            \(requestChanges)</p>
            </form>
            """
    }

    private static func artifact(_ artifact: BoundArtifact) -> HTML {
        let title: HTML =
            "<h3>\(artifact.name ?? "Bound value") <small>\(artifact.digest.map { "sha256 \($0)" } ?? "")</small></h3>"
        switch artifact.content {
        case .text(let text, let mediaType, let size, let truncated):
            let shown = DiffView.isDiff(mediaType: mediaType) ? DiffView.render(text) : "<pre>\(text)</pre>"
            let note: HTML =
                truncated
                ? "<p class=\"message notice\">Showing the first \(BoundArtifact.displayLimit / 1024) KiB of \(size) bytes.</p>"
                : .empty
            return
                "<section class=\"artifact\">\(title)<p>\(mediaType), \(size) bytes</p>\(note)\(shown)</section>"
        case .binary(let mediaType, let size):
            return
                "<section class=\"artifact\">\(title)<p>\(mediaType), \(size) bytes of binary content.</p></section>"
        case .missing(let reference):
            return
                "<section class=\"artifact\">\(title)<p>\(reference.description) is no longer stored.</p></section>"
        case .unreadable(let reference):
            return
                "<section class=\"artifact\">\(title)<p>\(reference.description) could not be read just now; reload the page to try again.</p></section>"
        case .json(let value):
            return "<section class=\"artifact\">\(title)<pre>\(value.jsonString())</pre></section>"
        }
    }
}
