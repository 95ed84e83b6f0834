import Foundation
import Hummingbird
import KeelCore
import KeelStore

/// The list of pending approvals and the page of one approval.
extension ApprovalWeb {
    func list(_ request: Request) async throws -> Response {
        guard let session = try await signedInSession(request) else { return Self.toSignIn }
        let pending = try await approvals.list(for: session.principal, status: .pending)
        return ApprovalListPage.response(pending, viewer: session.viewer, now: Date())
    }

    /// `?recorded=<decision>` (set by the decision's redirect) adds a line saying it was recorded.
    func show(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let session = try await signedInSession(request) else { return Self.toSignIn }
        let id = try Self.id(context)
        let recorded = request.uri.queryParameters["recorded"].flatMap {
            StepContext.Decision(rawValue: String($0))
        }
        let message = recorded.map { decision in
            ApprovalDetailPage.Message(
                text: "Your decision (\(decision.rawValue)) was recorded.", isError: false)
        }
        return try await detail(id, session: session, message: message, status: .ok)
    }

    /// The `:id` path parameter, percent-decoded (the page's links encode what a path segment may not hold).
    static func id(_ context: BasicRequestContext) throws -> String {
        let raw = try context.parameters.require("id")
        return raw.removingPercentEncoding ?? raw
    }

    /// The approval's page, or a 404 page when it is unknown or not visible to the session.
    func detail(
        _ id: String, session: WebSession, message: ApprovalDetailPage.Message?, status: HTTPResponse.Status
    ) async throws -> Response {
        guard let approval = try await approvals.find(id, for: session.principal) else {
            return PageLayout.response(
                status: .notFound, title: "Not found", viewer: session.viewer,
                body: """
                    <h1>Not found</h1>
                    \(PageLayout.message("There is no approval \(id) that you may see.", kind: "error"))
                    <p><a href="/approvals">Pending approvals</a></p>
                    """)
        }
        let artifacts = await BoundArtifact.load(
            bound: approval.bound, digests: approval.digests, from: resources,
            logger: logger.forRun(RunLogContext(approval)))
        let timeline: RunTimeline?
        do {
            timeline = try await runs.stored(run: approval.runID).timeline()
        } catch {
            let run = RunLogContext(approval)
            let context =
                (try? await runs.logContext(of: approval.runID)).flatMap { run.filling(from: $0) } ?? run
            logger.warning(
                "run timeline unavailable",
                metadata: context.metadata(adding: ["error": .string(String(describing: error))]))
            timeline = nil
        }
        return ApprovalDetailPage.response(
            approval, timeline: timeline, artifacts: artifacts, viewer: session.viewer, message: message,
            status: status, now: Date())
    }
}
