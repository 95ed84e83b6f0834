/// The `keel run show --json` document (docs/cli.md). Every key is always present, `null` when it has
/// no value, so programs can rely on the shape; times are RFC 3339 with milliseconds, lengths of time
/// whole milliseconds.
extension RunTimeline: Encodable {
    private enum Key: String, CodingKey {
        case runID, flow, version, status, outcome, reason, pass, trigger, triggeredAt, finishedAt
        case durationMs, cancellation, retries, steps, parent, children, usage, budget
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(runID, forKey: .runID)
        try container.encode(flow, forKey: .flow)
        try container.encode(version, forKey: .version)
        try container.encode(status.rawValue, forKey: .status)
        try container.encode(outcome?.rawValue, forKey: .outcome)
        try container.encode(reason, forKey: .reason)
        try container.encode(pass, forKey: .pass)
        try container.encode(trigger, forKey: .trigger)
        try container.encode(triggeredAt, forKey: .triggeredAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(durationMilliseconds, forKey: .durationMs)
        try container.encode(cancellation, forKey: .cancellation)
        try container.encode(retries, forKey: .retries)
        try container.encode(steps, forKey: .steps)
        try container.encode(parent, forKey: .parent)
        try container.encode(children, forKey: .children)
        try container.encode(usage, forKey: .usage)
        try container.encode(budget, forKey: .budget)
    }
}

extension RunTimeline.Trigger: Encodable {
    private enum Key: String, CodingKey {
        case actor, requester, correlationID, idempotencyKey, input, inputSummary
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(actor, forKey: .actor)
        try container.encode(requester, forKey: .requester)
        try container.encode(correlationID, forKey: .correlationID)
        try container.encode(idempotencyKey, forKey: .idempotencyKey)
        try container.encode(input, forKey: .input)
        try container.encode(inputSummary(), forKey: .inputSummary)
    }
}

extension RunTimeline.CancelRequest: Encodable {
    private enum Key: String, CodingKey { case at, actor, reason }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(at, forKey: .at)
        try container.encode(actor, forKey: .actor)
        try container.encode(reason, forKey: .reason)
    }
}

extension RunTimeline.RetryRequest: Encodable {
    private enum Key: String, CodingKey { case at, fromStep, pass, actor }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(at, forKey: .at)
        try container.encode(fromStep, forKey: .fromStep)
        try container.encode(pass, forKey: .pass)
        try container.encode(actor, forKey: .actor)
    }
}

extension StepTimeline: Encodable {
    private enum Key: String, CodingKey {
        case id, kind, needs, status, errorClass, message, skipReason, attempts, usage
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(needs, forKey: .needs)
        try container.encode(status.rawValue, forKey: .status)
        try container.encode(errorClass?.rawValue, forKey: .errorClass)
        try container.encode(message, forKey: .message)
        try container.encode(skipReason, forKey: .skipReason)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(usage, forKey: .usage)
    }
}

extension AttemptTimeline: Encodable {
    private enum Key: String, CodingKey {
        case attempt, pass, scheduledAt, startedAt, executor, claims, finishedAt, queueMs, durationMs
        case outcome, errorClass, message, timeout, retry, outputs, resources, wait, approval, changeRequest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(pass, forKey: .pass)
        try container.encode(scheduledAt, forKey: .scheduledAt)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(executor, forKey: .executor)
        try container.encode(claims, forKey: .claims)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(queueMilliseconds, forKey: .queueMs)
        try container.encode(durationMilliseconds, forKey: .durationMs)
        try container.encode(outcome?.rawValue, forKey: .outcome)
        try container.encode(errorClass?.rawValue, forKey: .errorClass)
        try container.encode(message, forKey: .message)
        try container.encode(timeout?.rawValue, forKey: .timeout)
        try container.encode(retry, forKey: .retry)
        try container.encode(JSONValue.object(outputs), forKey: .outputs)
        try container.encode(resources, forKey: .resources)
        try container.encode(wait, forKey: .wait)
        try container.encode(approval, forKey: .approval)
        try container.encode(changeRequest, forKey: .changeRequest)
    }
}

extension AttemptTimeline.RetryDecision: Encodable {
    private enum Key: String, CodingKey { case attempt, delay, dueAt }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(delay, forKey: .delay)
        try container.encode(dueAt, forKey: .dueAt)
    }
}

extension AttemptTimeline.Wait: Encodable {
    private enum Key: String, CodingKey {
        case id, openedAt, heartbeats, lastHeartbeatAt, callbackAt, callbackStatus
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(id, forKey: .id)
        try container.encode(openedAt, forKey: .openedAt)
        try container.encode(heartbeats, forKey: .heartbeats)
        try container.encode(lastHeartbeatAt, forKey: .lastHeartbeatAt)
        try container.encode(callbackAt, forKey: .callbackAt)
        try container.encode(callbackStatus?.rawValue, forKey: .callbackStatus)
    }
}

extension AttemptTimeline.Approval: Encodable {
    private enum Key: String, CodingKey { case id, requestedAt, summary, decision, actor, note, decidedAt }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(id, forKey: .id)
        try container.encode(requestedAt, forKey: .requestedAt)
        try container.encode(summary, forKey: .summary)
        try container.encode(decision?.rawValue, forKey: .decision)
        try container.encode(actor, forKey: .actor)
        try container.encode(note, forKey: .note)
        try container.encode(decidedAt, forKey: .decidedAt)
    }
}
