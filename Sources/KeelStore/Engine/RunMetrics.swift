import KeelCore
public import Metrics

/// Turns what a run advance appended into metrics: runs started and finished, each attempt's queue
/// and run time, retries and failures by error class, wait durations.
///
/// Every service adds facts through `RunAdvancer`, so every service counts what it appended, once,
/// after the commit; Prometheus sums the four. The facts are replayed over the state they were
/// appended to, so a measure that starts at an earlier fact (scheduled, started, waiting since) reads
/// it from the state just before the fact that ends it. Labels stay bounded: flow, release (the flow
/// version the run pinned), step, step kind, outcome, error class; never a run or attempt.
public struct RunMetrics: Sendable {
    let handles: MetricHandles

    /// `factory` nil: the process's bootstrapped factory, as it is when a series is first recorded.
    public init(factory: (any MetricsFactory)? = nil) {
        handles = MetricHandles(factory: factory)
    }

    /// Records the facts of an advance that has committed.
    public func record(_ advance: RunAdvance) {
        var state = advance.previous
        for (index, fact) in advance.facts.enumerated() {
            let before = state
            state.apply(fact)
            observe(fact, before: before, after: state, later: advance.facts[(index + 1)...])
        }
    }

    private func observe(
        _ fact: RunFact, before: RunState, after: RunState, later: ArraySlice<RunFact>
    ) {
        switch fact.event {
        case .runTriggered(let trigger):
            counter(
                "keel_runs_started_total",
                [("flow", trigger.flow), ("release", String(trigger.version))]
            ).increment()
        case .runFinished(let outcome, let reason):
            counter("keel_runs_finished_total", runLabels(before) + [("outcome", outcome.rawValue)])
                .increment()
            if RunFailure(reason: reason) == .budgetExceeded {
                counter("keel_budget_gates_total", [("flow", before.flow.name), ("outcome", "rejected")])
                    .increment()
            }
        case .usageRecorded(_, _, let usage):
            for dimension in UsageDimension.allCases where usage[dimension] > 0 {
                handles.amountCounter(
                    "keel_run_usage_total", [("flow", before.flow.name), ("dimension", dimension.rawValue)]
                ).increment(by: usage[dimension])
            }
        case .budgetGateOpened:
            counter("keel_budget_gates_total", [("flow", before.flow.name), ("outcome", "opened")])
                .increment()
        case .budgetRaised:
            counter("keel_budget_gates_total", [("flow", before.flow.name), ("outcome", "approved")])
                .increment()
        case .stepStarted(let id, let attempt, _, _):
            // A takeover after an expired lease starts the attempt again; it was queued only once.
            guard let step = before.steps[id], step.attempt == attempt, step.startedAt == nil,
                let scheduledAt = step.scheduledAt
            else { return }
            timer("keel_step_queue_seconds", stepLabels(id, before)).record(from: scheduledAt, to: fact.at)
        case .stepSucceeded(let id, let attempt, _):
            // A run or ssh step with a wait goes on, on the same attempt, until its callback.
            guard before.flow.step(id)?.waitCondition == nil else { return }
            attemptEnded(id, attempt: attempt, at: fact.at, before: before)
        case .stepFailed(let id, let attempt, _, _):
            attemptEnded(id, attempt: attempt, at: fact.at, before: before)
            failed(id, after: after, later: later)
        case .stepTimedOut(let id, let attempt, _):
            attemptEnded(id, attempt: attempt, at: fact.at, before: before)
            waitClosed(id, status: "timed_out", at: fact.at, before: before)
            failed(id, after: after, later: later)
        case .stepCancelled(let id, let attempt, _):
            attemptEnded(id, attempt: attempt, at: fact.at, before: before)
            waitClosed(id, status: "cancelled", at: fact.at, before: before)
        case .callbackReceived(let id, _, let status, _):
            guard status != .heartbeat, let attempt = before.steps[id]?.attempt else { return }
            attemptEnded(id, attempt: attempt, at: fact.at, before: before)
            waitClosed(id, status: status.rawValue, at: fact.at, before: before)
            failed(id, after: after, later: later)
        case .approvalDecided(let id, _, _, _, _):
            guard let attempt = before.steps[id]?.attempt else { return }
            attemptEnded(id, attempt: attempt, at: fact.at, before: before)
            waitClosed(id, status: "decided", at: fact.at, before: before)
            failed(id, after: after, later: later)
        case .stepScheduled, .stepRetryScheduled, .stepSkipped, .timerFired, .runCancelRequested,
            .runRetryRequested, .waitOpened, .approvalRequested, .mapExpanded, .subflowStarted:
            return
        }
    }

    /// An attempt in flight ended: its duration runs from its start (or, for a step no executor runs,
    /// from when it began waiting).
    private func attemptEnded(_ id: String, attempt: Int, at: Timestamp, before: RunState) {
        guard let step = before.steps[id], step.attempt == attempt,
            [.scheduled, .running, .waiting].contains(step.status),
            let began = step.startedAt ?? step.waitingSince
        else { return }
        timer("keel_step_duration_seconds", stepLabels(id, before)).record(from: began, to: at)
    }

    /// The step's wait for a callback closed (answered, timed out, decided by an approval beside it).
    private func waitClosed(_ id: String, status: String, at: Timestamp, before: RunState) {
        guard let step = before.steps[id], step.waitID != nil, let since = step.waitingSince else { return }
        timer("keel_wait_duration_seconds", runLabels(before) + [("step", id), ("status", status)])
            .record(from: since, to: at)
    }

    /// Counts a step that this fact left failed or timed out: a retry when the reducer scheduled one
    /// in the same advance, else a failure of the step.
    private func failed(_ id: String, after: RunState, later: ArraySlice<RunFact>) {
        guard let step = after.steps[id], step.status.isFailure else { return }
        let retried = later.contains { fact in
            if case .stepRetryScheduled(id, _, _, _) = fact.event { return true }
            return false
        }
        let errorClass = (step.errorClass ?? .permanent).rawValue
        counter(
            retried ? "keel_step_retries_total" : "keel_step_failures_total",
            runLabels(after) + [("step", MapElement.parse(id)?.step ?? id), ("error_class", errorClass)]
        ).increment()
    }

    private func runLabels(_ state: RunState) -> [(String, String)] {
        [
            ("flow", state.trigger?.flow ?? state.flow.name),
            ("release", state.trigger.map { String($0.version) } ?? ""),
        ]
    }

    private func stepLabels(_ id: String, _ state: RunState) -> [(String, String)] {
        // Elements count under their mapped step: one label value per flow step, however long the list.
        let step = MapElement.parse(id)?.step ?? id
        return runLabels(state) + [("step", step), ("kind", state.flow.step(step)?.kind.name ?? "unknown")]
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        handles.counter(label, dimensions)
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        handles.timer(label, dimensions)
    }
}

extension Timer {
    /// Records the time between two facts; a clock that went backwards records zero.
    fileprivate func record(from start: Timestamp, to end: Timestamp) {
        recordMilliseconds(max(0, end.millisecondsSinceEpoch - start.millisecondsSinceEpoch))
    }
}
