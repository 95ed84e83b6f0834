/// A deadline the run is waiting for. The caller keeps one durable timer per id and reports
/// `timer.fired` with that id when it comes due; the reducer ignores ids that are no longer armed.
///
/// Ids are stable and never reused within a run (they name the attempt, the round or the heartbeat
/// count), so a timer that fires after being re-armed or cancelled cannot be mistaken for its successor.
public struct RunTimer: Sendable, Hashable {
    public var id: String
    public var due: Timestamp
    public var purpose: Purpose

    public init(id: String, due: Timestamp, purpose: Purpose) {
        self.id = id
        self.due = due
        self.purpose = purpose
    }

    /// What happens when the timer fires.
    public enum Purpose: Sendable, Hashable {
        /// The flow's `timeout`: the run is cancelled.
        case runTimeout
        /// The step's `timeout` for the current round: the step times out for good.
        case stepTimeout(step: String)
        /// The step's `queue_timeout`: the attempt was not started in time.
        case queueTimeout(step: String, attempt: Int)
        /// A retry delay ended: `attempt` starts.
        case retry(step: String, attempt: Int)
        case waitTimeout(step: String, attempt: Int)
        case heartbeat(step: String, attempt: Int)
        case approvalTimeout(step: String, attempt: Int)
        /// Approvers are reminded; nothing else changes.
        case approvalReminder(step: String, attempt: Int)
    }
}

extension RunState {
    /// Every timer the run has armed now, by id. A pure function of the state, so the timers to start
    /// and cancel after a fact are the difference between the sets before and after it.
    public var timers: [String: RunTimer] {
        guard status == .running, let runID = trigger?.runID else { return [:] }
        var timers: [String: RunTimer] = [:]
        func add(_ id: String, _ due: Timestamp?, _ purpose: RunTimer.Purpose) {
            if let due { timers[id] = RunTimer(id: id, due: due, purpose: purpose) }
        }
        add("\(runID):run-timeout:\(pass)", runDeadline, .runTimeout)
        for (id, step) in steps where !step.status.isFinal {
            guard step.deadline != nil || [.scheduled, .retrying, .waiting].contains(step.status) else {
                continue
            }
            func timer(_ attempt: Int, _ purpose: String) -> String {
                AttemptID(run: runID, step: id, attempt: attempt).timerID(purpose)
            }
            add(timer(step.roundStart, "step-timeout"), step.deadline, .stepTimeout(step: id))
            let attempt = step.attempt
            switch step.status {
            case .scheduled:
                add(
                    timer(attempt, "queue-timeout"), step.queueDeadline,
                    .queueTimeout(step: id, attempt: attempt))
            case .retrying:
                if let next = step.retryAttempt {
                    add(timer(next, "retry"), step.retryDue, .retry(step: id, attempt: next))
                }
            case .waiting:
                add(
                    timer(attempt, "wait-timeout"), step.waitDeadline,
                    .waitTimeout(step: id, attempt: attempt))
                add(
                    timer(attempt, "heartbeat:\(step.heartbeats)"), step.heartbeatDue,
                    .heartbeat(step: id, attempt: attempt))
                add(
                    timer(attempt, "approval-timeout"), step.approvalDeadline,
                    .approvalTimeout(step: id, attempt: attempt))
                add(
                    timer(attempt, "approval-reminder"), step.reminderDue,
                    .approvalReminder(step: id, attempt: attempt))
            case .pending, .running, .succeeded, .partial, .failed, .timedOut, .skipped, .cancelled:
                break
            }
        }
        return timers
    }
}
