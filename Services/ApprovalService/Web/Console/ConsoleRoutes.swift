import Foundation
import Hummingbird
import KeelCore
import KeelStore
import Logging

/// The operators' console, beside the approval pages and in their frame: runs, one run, flows, one flow,
/// a diff of two flow versions, dead letters, webhook deliveries, and (admins only) the record of API
/// actions. Every signed-in token may look at the rest; nothing here changes
/// anything (operator actions are in the API), so the pages have no forms that post, and those they have
/// are plain GET forms (filters, the versions to compare). Any POST added later must check the session's
/// CSRF token and `OriginCheck` as `DecisionRoute` does.
extension ApprovalWeb {
    func addConsoleRoutes(to router: Router<BasicRequestContext>) {
        router.get("/console") { request, _ in
            Response(status: .seeOther, headers: [.location: ConsoleLinks.runs])
        }
        router.get("/console/runs") { request, _ in
            try await page(request) { try await runsPage(request) }
        }
        router.get("/console/runs/:id") { request, context in
            try await page(request) { try await runPage(request, context: context) }
        }
        router.get("/console/flows") { request, _ in
            try await page(request) { try await flowsPage(request) }
        }
        router.get("/console/flows/:name") { request, context in
            try await page(request) { try await flowPage(request, context: context) }
        }
        router.get("/console/flows/:name/diff") { request, context in
            try await page(request) { try await flowDiffPage(request, context: context) }
        }
        router.get("/console/dead-letters") { request, _ in
            try await page(request) { try await deadLettersPage(request) }
        }
        router.get("/console/webhooks") { request, _ in
            try await page(request) { try await webhooksPage(request) }
        }
        router.get("/console/actions") { request, _ in
            try await page(request) { try await actionsPage(request) }
        }
    }

    func runsPage(_ request: Request) async throws -> Response {
        guard let session = try await signedInSession(request) else { return Self.toSignIn }
        let query = RunsQuery(Self.queryParameters(request.uri.query))
        let runs = query.problems.isEmpty ? try await self.runs.search(query.filter) : []
        return RunsPage.response(runs, query: query, viewer: session.viewer, now: Date())
    }

    func runPage(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let session = try await signedInSession(request) else { return Self.toSignIn }
        let given = try Self.parameter("id", context)
        guard let id = RunID(given) else {
            return RunPage.notFound(given, viewer: session.viewer)
        }
        let history: [RecordedFact]
        do {
            history = try await runs.history(run: id)
        } catch RunStoreError.unknownRun {
            return RunPage.notFound(given, viewer: session.viewer)
        }
        var timeline: RunTimeline?
        do {
            timeline = try await runs.stored(run: id, history: history).timeline()
            timeline?.children = try await runs.children(of: id)
        } catch {
            logger.warning(
                "run timeline unavailable",
                metadata: ["run_id": .string(id.description), "error": .string(String(describing: error))])
        }
        let resources = try await self.resources.list(run: id)
        var approvals: [String: ApprovalRecord] = [:]
        for step in timeline?.steps ?? [] {
            for approval in step.attempts.compactMap(\.approval) {
                if let record = try await self.approvals.find(approval.id, for: session.principal) {
                    approvals[approval.id] = record
                }
            }
        }
        return RunPage.response(
            RunPage.Content(
                runID: id, timeline: timeline, history: history, resources: resources, approvals: approvals),
            viewer: session.viewer, now: Date())
    }

    func flowsPage(_ request: Request) async throws -> Response {
        guard let session = try await signedInSession(request) else { return Self.toSignIn }
        return FlowsPage.response(try await console.flows.list(), viewer: session.viewer)
    }

    func flowPage(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let session = try await signedInSession(request) else { return Self.toSignIn }
        let name = try Self.parameter("name", context)
        guard name.isStorable else { return FlowPage.notFound(name, viewer: session.viewer) }
        do {
            let versions = try await console.flows.versions(flow: name)
            let releases = try await console.flows.releases(flow: name)
            return FlowPage.response(
                flow: name, versions: versions, releases: releases, live: releases.last?.toVersion,
                viewer: session.viewer)
        } catch FlowStoreError.unknownFlow {
            return FlowPage.notFound(name, viewer: session.viewer)
        }
    }

    func flowDiffPage(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let session = try await signedInSession(request) else { return Self.toSignIn }
        let name = try Self.parameter("name", context)
        guard name.isStorable else { return FlowPage.notFound(name, viewer: session.viewer) }
        let parameters = Self.queryParameters(request.uri.query)
        guard let from = parameters["from"].flatMap(Int.init), let to = parameters["to"].flatMap(Int.init)
        else {
            return FlowDiffPage.badVersions(flow: name, viewer: session.viewer)
        }
        do {
            let old = try await console.flows.version(flow: name, number: from)
            let new = try await console.flows.version(flow: name, number: to)
            return FlowDiffPage.response(old: old, new: new, viewer: session.viewer)
        } catch FlowStoreError.unknownFlow {
            return FlowPage.notFound(name, viewer: session.viewer)
        } catch FlowStoreError.unknownVersion(_, let version) {
            return FlowDiffPage.unknownVersion(flow: name, version: version, viewer: session.viewer)
        }
    }

    func deadLettersPage(_ request: Request) async throws -> Response {
        guard let session = try await signedInSession(request) else { return Self.toSignIn }
        let given = Self.queryParameters(request.uri.query)["before"] ?? ""
        let before = Int64(given)
        guard given.isEmpty || before != nil else {
            return DeadLettersPage.badPosition(viewer: session.viewer)
        }
        let rejections = try await console.rejections.recent(limit: DeadLettersPage.pageSize, before: before)
        return DeadLettersPage.response(
            rejections, paged: before != nil, viewer: session.viewer, now: Date())
    }

    func webhooksPage(_ request: Request) async throws -> Response {
        guard let session = try await signedInSession(request) else { return Self.toSignIn }
        let deliveries = try await console.webhooks.recentDeliveries(limit: WebhooksPage.pageSize)
        return WebhooksPage.response(deliveries, viewer: session.viewer, now: Date())
    }

    /// The record of API actions names every token holder and what each tried: admins only, as the API's
    /// `GET /v1/actions` is.
    func actionsPage(_ request: Request) async throws -> Response {
        guard let session = try await signedInSession(request) else { return Self.toSignIn }
        guard session.principal.role >= .admin else { return ActionsPage.forbidden(viewer: session.viewer) }
        let actions = try await console.actions.recent(limit: ActionsPage.pageSize)
        return ActionsPage.response(actions, viewer: session.viewer, now: Date())
    }

    /// A path parameter, percent-decoded.
    static func parameter(_ name: String, _ context: BasicRequestContext) throws -> String {
        let raw = try context.parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }

    /// A query string as a GET form sends it (`+` for a space, the rest percent-encoded), first value of
    /// each name.
    static func queryParameters(_ query: String?) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ part: Substring) -> String {
                let spaced = part.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let name = decoded(parts[0])
            if parameters[name] == nil { parameters[name] = parts.count > 1 ? decoded(parts[1]) : "" }
        }
        return parameters
    }
}
