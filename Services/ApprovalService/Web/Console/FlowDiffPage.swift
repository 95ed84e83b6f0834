import Foundation
import Hummingbird
import KeelCore
import KeelStore

/// What changed between two versions of a flow: the unified diff of their YAML as pushed, the same diff
/// `keel flow diff` prints (`LineDiff`), shown as a diff (`DiffView`). Says so when the versions differ
/// only in formatting (their canonical forms are equal).
enum FlowDiffPage {
    /// The most cells (lines of one version × lines of the other) the line diff may compare here; its
    /// table is that big. Larger flows are compared with `keel flow diff`.
    static let maximumCells = 4_000_000

    static func response(
        old: FlowVersionRecord, new: FlowVersionRecord, viewer: PageLayout.Viewer
    ) -> Response {
        let flow = old.flow
        let oldLines = old.source.split(separator: "\n", omittingEmptySubsequences: false).count
        let newLines = new.source.split(separator: "\n", omittingEmptySubsequences: false).count
        let shown: HTML
        if oldLines * newLines > maximumCells {
            shown = PageLayout.message(
                "These versions are too long to compare here (\(oldLines) and \(newLines) lines); use keel flow diff \(flow) \(old.version) \(new.version).",
                kind: "notice")
        } else {
            let diff = LineDiff.unified(
                old: old.source, new: new.source, oldLabel: "\(flow) v\(old.version)",
                newLabel: "\(flow) v\(new.version)")
            shown =
                diff.isEmpty
                ? "<p>v\(old.version) and v\(new.version) have the same source.</p>" : DiffView.render(diff)
        }
        let semantic: HTML =
            old.sha256 == new.sha256 && old.version != new.version
            ? "<p class=\"message notice\">The two versions have the same definition: they differ only in formatting or comments.</p>"
            : .empty
        let body: HTML = """
            <h1><a href="\(ConsoleLinks.flow(flow))">\(flow)</a>: v\(old.version) → v\(new.version)</h1>
            \(semantic)
            \(shown)
            <p><a href="\(ConsoleLinks.flow(flow))">Back to \(flow)</a></p>
            """
        return PageLayout.response(
            title: "\(flow) v\(old.version) → v\(new.version)", viewer: viewer, body: body,
            section: ConsoleLinks.flows)
    }

    /// A 400 page for `from`/`to` values that are not version numbers.
    static func badVersions(flow: String, viewer: PageLayout.Viewer) -> Response {
        PageLayout.response(
            status: .badRequest, title: "Not a version", viewer: viewer,
            body: """
                <h1>Not a version</h1>
                \(PageLayout.message("Choose two versions of \(flow) to compare: from=N and to=M, whole numbers.", kind: "error"))
                <p><a href="\(ConsoleLinks.flow(flow))">Back to \(flow)</a></p>
                """, section: ConsoleLinks.flows)
    }

    /// The 404 page for a version the flow does not have.
    static func unknownVersion(flow: String, version: Int, viewer: PageLayout.Viewer) -> Response {
        PageLayout.response(
            status: .notFound, title: "Not found", viewer: viewer,
            body: """
                <h1>Not found</h1>
                \(PageLayout.message("Flow \(flow) has no version \(version).", kind: "error"))
                <p><a href="\(ConsoleLinks.flow(flow))">Back to \(flow)</a></p>
                """, section: ConsoleLinks.flows)
    }
}
