import Foundation
import KeelCore
import KeelStore
import Tracing
import Logging
import Metrics

/// How a callback reached the gateway: a label on its log line and metrics.
enum CallbackChannel: String, Sendable {
    case http, amqp
}

/// The one path every callback takes, from HTTP and AMQP alike: verify the token, check the body and the
/// resources it names, keep large values out of the history, and let `CallbackStore` apply it once.
///
/// The token is never logged, stored or echoed; the log line names the wait it was issued for.
struct CallbackReceiver: Sendable {
    let keys: CallbackKeyRing
    let callbacks: CallbackStore
    /// Where a callback's log line gets the run's flow, release and correlation id (the token names only
    /// the run, step and attempt).
    let runs: RunStore
    let resources: ResourceStore
    let limits: ResourceLimits
    let logger: Logger

    /// Receives a callback; `object` is its parsed JSON body (without the AMQP `token`).
    /// `trace` is the sender's trace context (`traceparent`), logged with the callback so the run's trace
    /// covers it.
    func receive(
        token: String?, object: JSONObject, via channel: CallbackChannel, trace: TraceContext? = nil
    ) async throws -> CallbackReply {
        // A span in the run's trace (the sender's traceparent), around verifying and recording it.
        try await withSpan(
            "callback \(channel.rawValue)", context: TraceSpans.context(traceparent: trace?.traceparent),
            ofKind: .server
        ) { _ in
            try await receiveInSpan(token: token, object: object, via: channel, trace: trace)
        }
    }

    private func receiveInSpan(
        token: String?, object: JSONObject, via channel: CallbackChannel, trace: TraceContext?
    ) async throws -> CallbackReply {
        let claims: CallbackClaims
        switch verify(token) {
        case .success(let verified): claims = verified
        case .failure(let reply):
            return await finish(reply, claims: nil, status: nil, via: channel, trace: trace)
        }
        let request: CallbackRequest
        do {
            request = try CallbackRequest(object)
        } catch {
            return await finish(
                Self.reply(for: error), claims: claims, status: nil, via: channel, trace: trace)
        }
        if let waitID = request.waitID, waitID != claims.wait {
            let reply = CallbackReply.unauthorized(
                "The callback token was not issued for wait '\(waitID.prefix(200))'.")
            return await finish(reply, claims: claims, status: request.status, via: channel, trace: trace)
        }
        if let reply = try await checkResources(request, claims: claims) {
            return await finish(reply, claims: claims, status: request.status, via: channel, trace: trace)
        }
        let stored = try await storedOutput(request.output, claims: claims)
        let outcome = try await callbacks.receive(
            claims: claims, status: request.status, output: request.output, stored: stored,
            resources: request.resources, usage: request.usage)
        return await finish(
            .taken(outcome), claims: claims, status: request.status, via: channel, trace: trace)
    }

    /// The claims of a genuine, unexpired token, or the reply refusing it.
    func verify(_ token: String?) -> Result<CallbackClaims, CallbackReply> {
        guard let token, !token.isEmpty else {
            return .failure(
                .unauthorized("A callback needs its token: 'Authorization: Bearer <KEEL_CALLBACK_TOKEN>'."))
        }
        do {
            return .success(try CallbackToken.verify(token, keys: keys))
        } catch {
            return .failure(.refused(error))
        }
    }

    /// Counts and logs a callback refused before its token's claims were known.
    func record(_ reply: CallbackReply, via channel: CallbackChannel) -> CallbackReply {
        report(reply, run: nil, wait: nil, status: nil, via: channel)
    }

    /// Counts and logs a request refused after its token was verified: the line names the token's run.
    func record(_ reply: CallbackReply, claims: CallbackClaims, via channel: CallbackChannel) async
        -> CallbackReply
    {
        await finish(reply, claims: claims, status: nil, via: channel)
    }

    static func reply(for failure: CallbackRequest.Failure) -> CallbackReply {
        switch failure {
        case .malformed(let detail): .malformed(detail)
        case .invalid(let errors): .invalid(errors)
        }
    }

    /// Every resource the callback names — in `resources`, or as a `res:sha256:` reference anywhere in
    /// its output — must be the run's own (`ResourceStore.available(to:)`): uploaded with a token of the
    /// run, produced by one of its steps, or named by its input. A worker cannot pass off another run's
    /// content as its own, nor pull another run's artifacts into its run by their digest.
    private func checkResources(_ request: CallbackRequest, claims: CallbackClaims) async throws
        -> CallbackReply?
    {
        let named =
            request.resources.sorted { $0.key < $1.key }.map {
                (pointer: JSONPointer(tokens: ["resources", $0.key]), reference: $0.value)
            }
            + ResourceReference.locatedReferences(in: request.output, under: JSONPointer(tokens: ["output"]))
        guard !named.isEmpty else { return nil }
        let available = try await resources.available(to: claims.run)
        let foreign = named.filter { !available.contains($0.reference) }
        guard !foreign.isEmpty else { return nil }
        return .invalid(
            foreign.map {
                .init(
                    pointer: $0.pointer.description,
                    detail:
                        "no such resource stored for this run; upload it first (POST /v1/callbacks/resources)"
                )
            })
    }

    /// The output as the history keeps it: each top-level value over the inline limit stored as a
    /// resource of the attempt and replaced by its reference (DESIGN invariant 8).
    private func storedOutput(_ output: JSONValue, claims: CallbackClaims) async throws -> JSONValue? {
        guard limits.exceedsInlineLimit(output) else { return nil }
        let producer = ResourceProducer(
            runID: claims.run, step: claims.step, attempt: claims.attempt)
        guard var fields = output.objectValue else {
            return try await resources.inlineOrStore(
                output, limits: limits, name: "output", producer: producer)
        }
        for (key, value) in fields {
            fields[key] = try await resources.inlineOrStore(
                value, limits: limits, name: key, producer: producer)
        }
        return .object(fields)
    }

    /// Counts and logs a callback whose token's claims may be known: the line then carries the run's
    /// fields, read from its row (a run that does not exist leaves the claims' run, step and attempt).
    private func finish(
        _ reply: CallbackReply, claims: CallbackClaims?, status: CallbackStatus?,
        via channel: CallbackChannel,
        trace: TraceContext? = nil
    ) async -> CallbackReply {
        var run: RunLogContext?
        if let claims {
            let named = RunLogContext(claims)
            var known =
                (try? await runs.logContext(of: claims.run)).flatMap { named.filling(from: $0) } ?? named
            // The callback's own trace (the job sent back its attempt's TRACEPARENT), else the run's.
            known.traceID = trace?.traceID ?? known.traceID
            run = known
        }
        return report(reply, run: run, wait: claims?.wait, status: status, via: channel, trace: trace)
    }

    private func report(
        _ reply: CallbackReply, run: RunLogContext?, wait: String?, status: CallbackStatus?,
        via channel: CallbackChannel, trace: TraceContext? = nil
    ) -> CallbackReply {
        Counter(
            label: "keel_callbacks_total",
            dimensions: [("outcome", reply.outcome), ("via", channel.rawValue)]
        )
        .increment()
        var metadata: Logger.Metadata = ["outcome": "\(reply.outcome)", "via": "\(channel.rawValue)"]
        if let wait { metadata["wait_id"] = "\(wait)" }
        if let status { metadata["status"] = "\(status.rawValue)" }
        if let trace { metadata["trace_id"] = "\(trace.traceID)" }
        if reply.isProblem, let detail = reply.body.objectValue?["detail"]?.stringValue {
            metadata["detail"] = "\(detail)"
        }
        logger.log(
            level: reply.isRefusal ? .warning : .info, "callback",
            metadata: run?.metadata(adding: metadata) ?? metadata)
        return reply
    }
}
