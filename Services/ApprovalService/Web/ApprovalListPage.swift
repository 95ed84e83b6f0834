import Foundation
import Hummingbird
import KeelStore

/// The pending approvals the signed-in person may see, newest first: flow, step, summary and age.
enum ApprovalListPage {
    static func response(_ approvals: [ApprovalRecord], viewer: PageLayout.Viewer, now: Date) -> Response {
        let rows = approvals.map { approval -> HTML in
            """
            <tr><td><a href="\(ApprovalLinks.page(approval.id))">\(approval.flow) v\(approval.version)</a></td>\
            <td>\(approval.step)</td><td>\(approval.summary ?? "")</td>\
            <td>\(Age.text(from: approval.requestedAt, to: now))</td></tr>

            """
        }
        let body: HTML =
            approvals.isEmpty
            ? "<h1>Pending approvals</h1>\n<p>Nothing is waiting for you.</p>"
            : """
            <h1>Pending approvals</h1>
            <table class="approvals">
            <thead><tr><th>Flow</th><th>Step</th><th>Summary</th><th>Waiting</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            """
        return PageLayout.response(
            title: "Pending approvals", viewer: viewer, body: body, section: "/approvals")
    }
}
