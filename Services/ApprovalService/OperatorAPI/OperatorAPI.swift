import Foundation
import KeelAPI
import KeelCore
import KeelService
import KeelStore
import Logging

/// The operators' API (docs/api.md): the server interface generated from `Sources/KeelAPI/openapi.yaml`,
/// implemented over the same stores the CLI and the engine use. Authentication happens before a handler
/// runs (`BearerAuthentication`); each handler checks the role it needs and records what it changed
/// (`ActionLog`); failures are problem JSON (`ProblemResponses`).
struct OperatorAPI: APIProtocol {
    let runs: RunStore
    let flows: FlowStore
    let tokens: APITokenStore
    let rejections: TriggerRejectionStore
    let advancer: RunAdvancer
    let starter: RunStarter
    let actions: ActionLog

    // MARK: Runs

    func listRuns(_ input: Operations.ListRuns.Input) async throws -> Operations.ListRuns.Output {
        _ = try await actions.authorize(.approver)
        let query = input.query
        let limit = try Limits.check(query.limit ?? 50, "limit", inQuery: true)
        if let q = query.q { try Limits.text(q, "q", maximum: 200, inQuery: true) }
        var before: RunID?
        if let text = query.before {
            guard let id = RunID(text) else {
                throw Limits.invalid("before", "expected a run id (a UUID)", inQuery: true)
            }
            before = id
        }
        let found = try await runs.search(
            RunFilter(
                flow: query.flow, status: query.status?.rawValue, requester: query.requester,
                since: query.since,
                until: query.until, text: query.q, before: before, limit: limit))
        return .ok(
            .init(
                body: .json(
                    .init(
                        runs: try found.map(APIShapes.run),
                        nextBefore: found.count == limit ? found.last?.id.description : nil))))
    }

    func getRun(_ input: Operations.GetRun.Input) async throws -> Operations.GetRun.Output {
        _ = try await actions.authorize(.approver)
        guard let id = RunID(input.path.runID), let summary = try await runs.summary(of: id) else {
            throw Problems.runNotFound
        }
        let history = try await runs.history(run: id)
        let timeline = try await runs.stored(run: id, history: history).timeline()
        return .ok(
            .init(
                body: .json(
                    .init(
                        run: try APIShapes.run(summary), timeline: try APIShapes.converted(timeline),
                        history: try history.map(APIShapes.historyEntry)))))
    }

    func startRun(_ input: Operations.StartRun.Input) async throws -> Operations.StartRun.Output {
        guard case .json(let body) = input.body else { throw Problems.jsonBodyRequired }
        let principal = try await actions.authorize(.operator, action: "run.start", target: body.flow)
        try Limits.text(body.flow, "flow", maximum: 200)
        if let key = body.idempotencyKey { try Limits.text(key, "idempotency_key", maximum: 200) }
        let wait = try Limits.check(body.waitSeconds ?? 5, "wait_seconds", range: 0...30)
        let started = try await starter.start(
            flow: body.flow, input: try APIShapes.jsonValue(body.input?.additionalProperties),
            idempotencyKey: body.idempotencyKey, draft: body.draftVersion, for: principal,
            wait: .seconds(wait))
        switch started {
        case .created(let run):
            await actions.record("run.start", target: run.id.description, by: principal, outcome: .done)
            return .created(.init(body: .json(APIShapes.started(run, status: .created))))
        case .existing(let run):
            return .ok(.init(body: .json(APIShapes.started(run, status: .existing))))
        case .accepted(let key):
            await actions.record(
                "run.start", target: body.flow, by: principal, outcome: .done,
                detail: "published; no answer yet for idempotency key \(key)")
            return .accepted(
                .init(
                    body: .json(
                        .init(
                            flow: body.flow, idempotencyKey: key, requester: principal.name, status: .accepted
                        ))))
        case .rejected(let rejection):
            await actions.record(
                "run.start", target: body.flow, by: principal, outcome: .refused, detail: rejection.message)
            throw Problems.triggerRejected(rejection)
        }
    }

    func cancelRun(_ input: Operations.CancelRun.Input) async throws -> Operations.CancelRun.Output {
        guard case .json(let body) = input.body else { throw Problems.jsonBodyRequired }
        let id = input.path.runID.lowercased()
        let principal = try await actions.authorize(.operator, action: "run.cancel", target: id)
        guard !body.reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw Limits.invalid("reason", "say why the run is cancelled")
        }
        try Limits.text(body.reason, "reason", maximum: 2000)
        let result = try await submit(
            .cancel(actor: principal.name, reason: body.reason), run: id, action: "run.cancel",
            by: principal, detail: body.reason)
        return .ok(.init(body: .json(result)))
    }

    func retryRun(_ input: Operations.RetryRun.Input) async throws -> Operations.RetryRun.Output {
        guard case .json(let body) = input.body else { throw Problems.jsonBodyRequired }
        let id = input.path.runID.lowercased()
        let principal = try await actions.authorize(.operator, action: "run.retry", target: id)
        try Limits.text(body.fromStep, "from_step", maximum: 200)
        if let reason = body.reason { try Limits.text(reason, "reason", maximum: 2000) }
        let result = try await submit(
            .retry(fromStep: body.fromStep, actor: principal.name), run: id, action: "run.retry",
            by: principal, detail: "from \(body.fromStep)" + (body.reason.map { ": \($0)" } ?? ""))
        return .ok(.init(body: .json(result)))
    }

    /// Carries an operator's request to the run through the engine, as `keel run cancel|retry` does:
    /// checked against the run's state under its lock, the fact and its consequences committed together.
    private func submit(
        _ request: OperatorRequest, run text: String, action: String, by principal: APITokenRecord,
        detail: String
    ) async throws -> Components.Schemas.OperatorResult {
        guard let run = RunID(text), try await runs.summary(of: run) != nil else {
            throw Problems.runNotFound
        }
        let id = run.description
        let advance: RunAdvance
        do {
            advance = try await advancer.advance(run: run) { state in
                try request.fact(for: state, at: .now).get()
            }
        } catch let refusal as OperatorRequestRefusal {
            await actions.record(
                action, target: id, by: principal, outcome: .refused, detail: refusal.description)
            throw Problems.conflict(refusal.description)
        }
        guard !advance.ignored, let fact = advance.facts.first else {
            await actions.record(action, target: id, by: principal, outcome: .refused, detail: "not accepted")
            throw Problems.conflict("The engine did not accept the request.")
        }
        await actions.record(action, target: id, by: principal, outcome: .done, detail: detail)
        let timeline = try await runs.stored(run: run).timeline()
        let status = try await runs.summary(of: run)?.status ?? "pending"
        return .init(
            runId: id, fact: try HistoryEntry(fact).kind,
            status: Components.Schemas.RunStatus(rawValue: status) ?? .pending,
            timeline: try APIShapes.converted(timeline))
    }
}
