import Foundation
import KeelCore
import PGClient

/// Carries out a transition's commands inside the transaction that recorded its facts: every message
/// goes through the outbox, every timer and slot into its table.
struct RunCommands {
    let runID: RunID
    let state: RunState
    let settings: EngineSettings
    let connection: PGConnection
    /// For the commands that advance another run: a parent's child, a child's parent.
    let advancer: RunAdvancer

    private var trigger: RunTrigger? { state.trigger }
    private var approvals: ApprovalGateCommands {
        ApprovalGateCommands(runID: runID, connection: connection)
    }
    private var waits: WaitCommands { WaitCommands(runID: runID, connection: connection) }
    private var subflows: SubflowCommands {
        SubflowCommands(runID: runID, state: state, advancer: advancer, connection: connection)
    }
    private var slots: ConcurrencySlots {
        ConcurrencySlots(connection: connection, shards: settings.stepShards)
    }

    /// `facts` are the transition's (the fact and its derived facts): they tell why a wait or approval closed.
    func carryOut(_ commands: [RunCommand], before: RunState, facts: [RunFact]) async throws {
        var messages: [OutboxMessage] = []
        let at = facts.first?.at ?? .now
        for command in commands {
            switch command {
            case .dispatch(let scheduled):
                if let message = try await dispatch(scheduled) { messages.append(message) }
            case .stopAttempt(let step, let attempt, let idempotencyKey, let reason):
                if let reap = SSHReapMessage.make(
                    step: step, attempt: attempt, idempotencyKey: idempotencyKey, reason: reason,
                    before: before, route: try await route(step: step, attempt: attempt))
                {
                    messages.append(reap)
                }
                try await connection.execute(
                    """
                    UPDATE step_attempts SET status = 'cancelled', finished_at = now(), error_class = 'cancelled',
                           error_message = \(reason)
                    WHERE run_id = \(runID) AND step = \(step) AND attempt = \(attempt)
                      AND status IN ('scheduled', 'running')
                    """)
                if case .subflow? = state.flow.step(step)?.kind {
                    try await subflows.stopChild(step: step, attempt: attempt, reason: reason, at: at)
                }
            case .startSubflow(let request):
                messages.append(subflows.trigger(request))
            case .startTimer(let timer):
                try await connection.execute(
                    """
                    INSERT INTO run_timers (id, run_id, due_at, purpose)
                    VALUES (\(timer.id), \(runID), \(timer.due.date), \(timer.purpose.name))
                    ON CONFLICT (id) DO NOTHING
                    """)
            case .cancelTimer(let id):
                try await connection.execute("DELETE FROM run_timers WHERE id = \(id)")
            case .publish(let routingKey, let body):
                messages.append(
                    OutboxMessage(
                        exchange: "keel.events", routingKey: routingKey,
                        correlationID: trigger?.correlationID,
                        headers: OutboxMessage.traced(
                            ["keel-schema": "1", "keel-type": Self.eventType(routingKey)],
                            trigger?.traceparent),
                        body: body.jsonBytes()))
            case .finishRun(let outcome, let replyTo):
                try await connection.execute("DELETE FROM run_timers WHERE run_id = \(runID)")
                if let replyTo { messages.append(finished(outcome, replyTo: replyTo)) }
                try await subflows.reportToParent(outcome, at: at)
            case .requestApproval(let request, let requester, let timeoutAt, _):
                try await approvals.open(request, state: state, requester: requester, timeoutAt: timeoutAt)
            case .closeApproval(let approvalID):
                try await approvals.close(approvalID, before: before, after: state, facts: facts)
            case .openWait(let step, let attempt, let waitID, let timeoutAt, let heartbeatAt):
                try await waits.open(
                    step: step, attempt: attempt, waitID: waitID, timeoutAt: timeoutAt,
                    heartbeatAt: heartbeatAt,
                    state: state)
            case .closeWait(let waitID):
                try await waits.close(waitID, facts: facts)
            }
        }
        messages.append(contentsOf: try await slots.reconcile(run: runID, state: state))
        try await OutboxStore.enqueue(messages, on: connection)
    }

    /// Records the attempt and returns its dispatch, or nil when it must first wait for a slot.
    /// The pool and shard the attempt was dispatched to (nil for an attempt never dispatched).
    private func route(step: String, attempt: Int) async throws -> StepRoute? {
        let rows = try await connection.query(
            """
            SELECT pool, shard FROM step_attempts
            WHERE run_id = \(runID) AND step = \(step) AND attempt = \(attempt)
            """)
        guard let (pool, shard) = try rows.first?.decode((String, Int).self) else { return nil }
        return StepRoute(pool: pool, shard: shard)
    }

    private func dispatch(_ scheduled: ScheduledAttempt) async throws -> OutboxMessage? {
        guard let trigger else { return nil }
        let route = StepRoute(scheduled, shards: settings.stepShards)
        try await connection.execute(
            """
            INSERT INTO step_attempts (run_id, step, attempt, idempotency_key, pool, shard)
            VALUES (\(runID), \(scheduled.step), \(scheduled.attempt), \(scheduled.idempotencyKey),
                    \(route.pool), \(route.shard))
            ON CONFLICT DO NOTHING
            """)
        let dispatch = StepDispatch(
            runID: trigger.runID, flow: trigger.flow, version: trigger.version, step: scheduled.step,
            attempt: scheduled.attempt, idempotencyKey: scheduled.idempotencyKey,
            correlationID: trigger.correlationID)
        let attempt = AttemptID(run: runID, step: scheduled.step, attempt: scheduled.attempt)
        let claims = scheduled.concurrency.map { SlotClaim($0, flow: trigger.flow, attempt: attempt) }
        if !claims.isEmpty {
            let granted = try await slots.acquire(
                claims, run: runID, dispatch: dispatch, routingKey: route.routingKey)
            guard granted else { return nil }
        } else if InPlaceContinuation.current?.take(dispatch, route: route) == true {
            // The executor recording this transaction's result claims it before the commit.
            return nil
        }
        return Self.message(dispatch, routingKey: route.routingKey, traceparent: trigger.traceparent)
    }

    static func message(_ dispatch: StepDispatch, routingKey: String, traceparent: String? = nil)
        -> OutboxMessage
    {
        OutboxMessage(
            exchange: "keel.steps", routingKey: routingKey, correlationID: dispatch.correlationID,
            headers: OutboxMessage.traced(["keel-schema": "1", "keel-type": "step.dispatch"], traceparent),
            body: dispatch.json.jsonBytes())
    }

    /// `{"type": "run.finished", "run_id", "flow", "version", "outcome", "reason"}` on the trigger's `reply_to`.
    private func finished(_ outcome: RunOutcome, replyTo: String) -> OutboxMessage {
        var body: JSONObject = ["type": "run.finished", "outcome": .string(outcome.rawValue)]
        body["run_id"] = .string(runID.description)
        body["flow"] = .string(state.flow.name)
        body["version"] = .number(JSONNumber(trigger?.version ?? 0))
        body["reason"] = state.finishReason.map(JSONValue.string) ?? .null
        return OutboxMessage(
            exchange: "", routingKey: replyTo, correlationID: trigger?.correlationID,
            headers: OutboxMessage.traced(
                ["keel-schema": "1", "keel-type": "run.finished"], trigger?.traceparent),
            body: JSONValue.object(body).jsonBytes())
    }

    /// `run.succeeded.deploy` → `run.succeeded`.
    static func eventType(_ routingKey: String) -> String {
        routingKey.split(separator: ".", maxSplits: 2).prefix(2).joined(separator: ".")
    }
}

extension RunTimer.Purpose {
    /// A word for operators reading `run_timers`.
    var name: String {
        switch self {
        case .runTimeout: "run-timeout"
        case .stepTimeout: "step-timeout"
        case .queueTimeout: "queue-timeout"
        case .retry: "retry"
        case .waitTimeout: "wait-timeout"
        case .heartbeat: "heartbeat"
        case .approvalTimeout: "approval-timeout"
        case .approvalReminder: "approval-reminder"
        }
    }
}
