import Foundation
public import KeelCore
public import PGClient

/// Receives verified callbacks, from HTTP and AMQP alike, and applies each wait's answer exactly once:
/// under the run's lock, a callback for an open wait advances the run; one for a wait not yet
/// open is kept and applied when it opens; one for a closed wait gets the stored answer and changes
/// nothing. Every callback for a run that exists is recorded in `callbacks`, with the SHA-256 of its
/// token's id, never the token (one naming no run leaves only the gateway's log line and metric).
public struct CallbackStore: Sendable {
    let pool: PGPool
    let advancer: RunAdvancer

    public init(pool: PGPool, advancer: RunAdvancer) {
        self.pool = pool
        self.advancer = advancer
    }

    /// Receives one callback whose token was verified (`CallbackToken.verify`) into `claims`.
    /// `resources` are uploaded resources the output refers to by name. `output` is what the worker sent
    /// (the wait's schema judges it); `stored`, when given, is the same output with values over the inline
    /// limit replaced by resource references (`ResourceStore.inlineOrStore`): what the history keeps.
    /// `usage`, what the job spent, is recorded (`usage.recorded`) right before a callback applied now; usage sent
    /// with a callback kept early is not counted.
    public func receive(
        claims: CallbackClaims, status: CallbackStatus, output: JSONValue, stored: JSONValue? = nil,
        resources: [String: ResourceReference] = [:], usage: Usage = .zero
    ) async throws -> CallbackOutcome {
        try await advancer.withTransaction { connection in
            let run = claims.run
            guard claims.wait == AttemptID(run: claims.run, step: claims.step, attempt: claims.attempt).waitID
            else { return .refused(.foreignWait) }
            let received = Received(
                claims: claims, run: run, status: status, output: stored ?? output, resources: resources,
                connection: connection)
            // Lock order: the run first, as every advance does; then its wait as it now is.
            guard
                let row = try await connection.query(
                    "SELECT flow, version FROM runs WHERE id = \(run) FOR UPDATE"
                ).first
            else { return .refused(.foreignWait) }
            let (flow, version) = try row.decode((String, Int).self)
            let reducer = try await advancer.reducer(flow: flow, version: version, on: connection)
            guard let condition = reducer.flow.step(claims.step)?.waitCondition else {
                return try await received.record(.refused(.foreignWait))
            }
            let (outputs, clashes) = CallbackPayload.outputs(stored ?? output, resources: resources)
            var errors = clashes
            // The schema describes a result: a failure report is taken as it is.
            if status == .succeeded || status == .partial, let schema = condition.schema {
                errors = try JSONSchema(schema).validate(output) + errors
            }
            guard errors.isEmpty else { return try await received.record(.refused(.invalidOutput(errors))) }
            guard let wait = try await WaitRecord.load(claims.wait, on: connection) else {
                if let reason = try await Self.neverOpens(claims, run: run, on: connection) {
                    return try await received.record(.refused(.waitWillNotOpen(reason)))
                }
                return try await received.record(.keptEarly)
            }
            guard wait.runID == run, wait.step == claims.step, wait.attempt == claims.attempt else {
                return try await received.record(.refused(.foreignWait))
            }
            if let answer = wait.answer {
                return try await received.record(
                    answer.status.isCallback ? .alreadyAnswered(answer) : .refused(.waitClosed(answer)))
            }
            if !usage.isZero {
                try await advancer.advance(run: claims.run, on: connection) { state in
                    guard state.steps[claims.step]?.waitID == claims.wait else { return nil }
                    return RunFact(
                        at: .now,
                        event: .usageRecorded(step: claims.step, attempt: claims.attempt, usage: usage))
                }
            }
            // A heartbeat the history need not record (`HeartbeatRecording`) is kept on the wait's row only.
            var coalesced: RunState?
            let advance = try await advancer.advance(run: claims.run, on: connection) { state in
                let fact = RunFact(
                    at: .now,
                    event: .callbackReceived(
                        step: claims.step, waitID: claims.wait, status: status, output: outputs))
                if status == .heartbeat, let step = state.steps[claims.step], step.waitID == claims.wait,
                    !HeartbeatRecording.isRecorded(at: fact.at, step: step)
                {
                    coalesced = state
                    return nil
                }
                return fact
            }
            guard !advance.ignored || coalesced != nil else {
                return try await received.record(.refused(.foreignWait))
            }
            if status == .heartbeat {
                let due = (coalesced ?? advance.state).steps[claims.step]?.heartbeatDue
                try await WaitCommands(runID: run, connection: connection).heartbeat(
                    claims.wait, due: due, progress: outputs)
                return try await received.record(.heartbeatApplied(due: due?.date))
            }
            guard let answer = try await WaitRecord.load(claims.wait, on: connection)?.answer else {
                throw PGError(code: .protocolViolation, message: "the callback did not close its wait")
            }
            return try await received.record(.applied(answer))
        }
    }

    /// Why a wait that has not opened never will, or nil while it still may: its run finished, or its
    /// attempt ended without starting the job, or a later attempt of the step replaced it. A callback for
    /// such a wait is refused instead of kept, so the job learns its answer will never be applied.
    static func neverOpens(_ claims: CallbackClaims, run: RunID, on connection: PGConnection) async throws
        -> String?
    {
        let row = try await connection.query(
            """
            SELECT r.status,
                   (SELECT max(attempt) FROM step_attempts WHERE run_id = r.id AND step = \(claims.step)),
                   (SELECT status FROM step_attempts
                     WHERE run_id = r.id AND step = \(claims.step) AND attempt = \(claims.attempt)),
                   (SELECT max(attempt) FROM waits WHERE run_id = r.id AND step = \(claims.step))
            FROM runs r WHERE r.id = \(run)
            """
        ).first
        guard let row else { return "the run does not exist" }
        let (status, latestAttempt, attemptStatus, latestWait) = try row.decode(
            (String, Int?, String?, Int?).self)
        if ["succeeded", "failed", "cancelled"].contains(status) { return "the run \(status)" }
        let latest = max(latestAttempt ?? 0, latestWait ?? 0)
        if latest > claims.attempt { return "attempt \(latest) of the step replaced it" }
        if let attempt = attemptStatus, ["failed", "cancelled", "timed_out"].contains(attempt) {
            return "its attempt \(attempt.replacingOccurrences(of: "_", with: " "))"
        }
        return nil
    }

    /// The wait with this id, or nil when it has not opened (yet).
    public func wait(_ id: String) async throws -> WaitRecord? {
        try await pool.withConnection { connection in try await WaitRecord.load(id, on: connection) }
    }

    /// The callbacks received for a wait, oldest first.
    public func callbacks(of waitID: String) async throws -> [CallbackRecord] {
        try await pool.withConnection { connection in try await CallbackRecord.all(of: waitID, on: connection)
        }
    }
}

/// One callback being received: records it with what became of it.
private struct Received {
    let claims: CallbackClaims
    let run: RunID
    let status: CallbackStatus
    let output: JSONValue
    let resources: [String: ResourceReference]
    let connection: PGConnection

    func record(_ outcome: CallbackOutcome) async throws -> CallbackOutcome {
        // A wait's first heartbeat is kept, whatever became of it; the rest only count on its row.
        if status == .heartbeat, try await hasHeartbeatRow() { return outcome }
        var disposition: CallbackDisposition
        var answer: WaitAnswer?
        switch outcome {
        case .applied(let stored):
            (disposition, answer) = (.applied, stored)
        case .heartbeatApplied:
            disposition = .applied
        case .keptEarly:
            disposition = .early
            if status != .heartbeat, try await hasKeptCallback() { disposition = .duplicate }
        case .alreadyAnswered(let stored):
            (disposition, answer) = (.duplicate, stored)
        case .refused(let refusal):
            disposition = .refused
            if case .waitClosed(let stored) = refusal { answer = stored }
        }
        try await connection.execute(
            """
            INSERT INTO callbacks (token_digest, wait_id, run_id, status, output, resources, disposition, applied,
                                   applied_at, answer)
            VALUES (\(ContentDigest.sha256Hex(of: Array(claims.id.utf8))), \(claims.wait), \(run), \(status.rawValue),
                    \(PGJSON(bytes: output.jsonBytes())), \(PGJSON(bytes: CallbackPayload.json(resources).jsonBytes())),
                    \(disposition.rawValue), \(disposition == .applied), \(disposition == .applied ? Date() : nil),
                    \(answer.map { PGJSON(bytes: $0.json.jsonBytes()) }))
            """)
        return outcome
    }

    private func hasHeartbeatRow() async throws -> Bool {
        !(try await connection.query(
            "SELECT 1 FROM callbacks WHERE wait_id = \(claims.wait) AND status = 'heartbeat' LIMIT 1"
        ).isEmpty)
    }

    private func hasKeptCallback() async throws -> Bool {
        !(try await connection.query(
            """
            SELECT 1 FROM callbacks
            WHERE wait_id = \(claims.wait) AND disposition = 'early' AND status <> 'heartbeat'
            """
        ).isEmpty)
    }
}
