import KeelCore

/// The outbox message that has the executors stop a stopped `ssh` attempt's detached job
/// (`SSHReapRequest`). Only an attempt that reported a started job (its outputs name the `host`) gets
/// one: an attempt stopped while it was still starting is stopped by its own executor, whose command
/// the cancelled lease interrupts.
///
/// It is routed like the attempt's dispatch (its `step_attempts` row's pool and shard, which follow the
/// flow's `shard_key`), so it reaches the queue whose executors ran the job.
enum SSHReapMessage {
    /// nil unless `step` is an `ssh` step whose attempt `attempt` started a job and was dispatched
    /// (`route`).
    static func make(
        step: String, attempt: Int, idempotencyKey: String, reason: String, before: RunState,
        route: StepRoute?
    ) -> OutboxMessage? {
        guard let definition = before.flow.steps.first(where: { $0.id == step }),
            case .ssh = definition.kind, let stepState = before.steps[step], stepState.attempt == attempt,
            let host = stepState.outputs["host"]?.stringValue, let trigger = before.trigger, let route
        else { return nil }
        let request = SSHReapRequest(
            runID: trigger.runID, step: step, attempt: attempt, idempotencyKey: idempotencyKey, host: host,
            pid: stepState.outputs["pid"]?.int64Value.flatMap { Int(exactly: $0) }, reason: reason,
            flow: trigger.flow, version: trigger.version, correlationID: trigger.correlationID)
        return OutboxMessage(
            exchange: "keel.steps", routingKey: route.routingKey, correlationID: trigger.correlationID,
            headers: ["keel-schema": "1", "keel-type": SSHReapRequest.messageType],
            body: request.json.jsonBytes())
    }
}
