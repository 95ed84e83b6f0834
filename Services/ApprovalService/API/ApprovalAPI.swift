import Foundation
import Hummingbird
import KeelCore
import KeelService
import KeelStore
import Logging

/// The approvals HTTP API (DESIGN §4): list, show and decide, each on behalf of the bearer token's holder.
struct ApprovalAPI: Sendable {
    let approvals: ApprovalStore
    let runs: RunStore
    let tokens: APITokenStore
    var recorded: RecordedDecisions { RecordedDecisions(runs: runs) }

    /// The largest decision body read; a note's limit is well inside it.
    static let maximumBodyBytes = 64 * 1024

    func add(to router: Router<some RequestContext>) {
        router.get("/v1/approvals") { request, context in try await list(request, context: context) }
        router.get("/v1/approvals/:id") { request, context in try await show(request, context: context) }
        router.post("/v1/approvals/:id/decision") { request, context in
            try await decide(request, context: context)
        }
    }

    func list(_ request: Request, context: some RequestContext) async throws -> Response {
        let principal = try await BearerToken.principal(of: request, tokens: tokens)
        let filter = request.uri.queryParameters.get("status") ?? ApprovalStatus.pending.rawValue
        let status: ApprovalStatus?
        if filter == "all" {
            status = nil
        } else if let parsed = ApprovalStatus(rawValue: filter) {
            status = parsed
        } else {
            let choices = (ApprovalStatus.allCases.map(\.rawValue) + ["all"]).joined(separator: ", ")
            throw ProblemDetails(
                status: .badRequest, type: "/problems/invalid-query", title: "Invalid query parameter",
                detail: "status: expected one of \(choices)",
                errors: [.init(pointer: "status", detail: "expected one of \(choices)")])
        }
        let records = try await approvals.list(for: principal, status: status)
        return try Self.json(["approvals": records])
    }

    func show(_ request: Request, context: some RequestContext) async throws -> Response {
        let principal = try await BearerToken.principal(of: request, tokens: tokens)
        guard let approval = try await approvals.find(try Self.id(context), for: principal) else {
            throw ApprovalError.notFound.problem
        }
        let timeline = try await runs.stored(run: approval.runID).timeline()
        return try Self.json(ApprovalWithTimeline(approval: approval, timeline: timeline))
    }

    func decide(_ request: Request, context: some RequestContext) async throws -> Response {
        let principal = try await BearerToken.principal(of: request, tokens: tokens)
        let id = try Self.id(context)
        let bytes = try await request.body.collect(upTo: Self.maximumBodyBytes)
        let body = try DecisionBody(parsing: Array(buffer: bytes))
        do {
            let approval = try await approvals.decide(
                id, by: principal, decision: body.decision, note: body.note, digests: body.digests)
            await recorded.record(
                body.decision, settled: approval, by: principal.name, via: "api", logger: context.logger)
            return try Self.json(["approval": approval])
        } catch let error as ApprovalError {
            throw error.problem
        }
    }

    /// The `{id}` path parameter, percent-decoded (clients may send `:` as `%3A`).
    static func id(_ context: some RequestContext) throws -> String {
        let raw = try context.parameters.require("id")
        return raw.removingPercentEncoding ?? raw
    }

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}

/// `GET /v1/approvals/{id}`: the approval and its run's timeline so far.
struct ApprovalWithTimeline: Encodable {
    var approval: ApprovalRecord
    var timeline: RunTimeline
}
