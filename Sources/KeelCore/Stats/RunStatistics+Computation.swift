extension RunStatistics {
    /// The figures of `runs` (already chosen: one flow, a time window) and of `releases` of their
    /// flows in the same window.
    public init(runs: [RunTimeline], releases: [FlowReleaseEvent]) {
        var counts = RunCounts()
        var runRetries = 0
        var waits: [Int64] = []
        var approvals: [Int64] = []
        var perVersion: [VersionKey: ReleaseFigures] = [:]
        var perStep: [StepKey: StepSamples] = [:]
        var perFlow: [String: FlowFigures] = [:]

        for run in runs {
            counts.count(run.outcome)
            perVersion[VersionKey(run.flow, run.version), default: .empty(run.flow, run.version)].runs.count(
                run.outcome)
            runRetries += run.retries.count
            perFlow[run.flow, default: .empty(run.flow)].add(run)
            // A mapped step's work is its elements': their attempts count under its id, and its own
            // expansion (which spans them) is not an attempt of its own.
            let mapped = Set(run.steps.compactMap { MapElement.parse($0.id)?.step })
            for step in run.steps where !mapped.contains(step.id) {
                let key = StepKey(flow: run.flow, step: MapElement.parse(step.id)?.step ?? step.id)
                perStep[key, default: StepSamples(kind: step.kind)].add(step.attempts, usage: step.usage)
            }
            for attempt in run.steps.lazy.flatMap(\.attempts) {
                if let wait = attempt.wait, let answered = wait.callbackAt {
                    waits.append(answered.millisecondsSinceEpoch - wait.openedAt.millisecondsSinceEpoch)
                }
                if let approval = attempt.approval, approval.actor != nil, let decided = approval.decidedAt {
                    approvals.append(
                        decided.millisecondsSinceEpoch - approval.requestedAt.millisecondsSinceEpoch)
                }
            }
        }
        for event in releases {
            perVersion[VersionKey(event.flow, event.toVersion), default: .empty(event.flow, event.toVersion)]
                .madeLive += 1
            if event.kind == .rollback, let from = event.fromVersion {
                perVersion[VersionKey(event.flow, from), default: .empty(event.flow, from)].rollbacks += 1
            }
        }

        // The totals are the steps' samples together.
        let all = perStep.values.reduce(into: StepSamples(kind: "")) { $0.merge($1) }
        let recoveries = Self.recoveries(of: runs)
        let finished = counts.succeeded + counts.failed + counts.cancelled
        self.init(
            runs: counts,
            successRate: finished == 0 ? nil : Double(counts.succeeded) / Double(finished),
            errorClasses: all.errorClasses, retries: all.retries, runRetries: runRetries,
            stepDuration: DurationSummary(all.durations), queueTime: DurationSummary(all.queueTimes),
            waitDuration: DurationSummary(waits), approvalTurnaround: DurationSummary(approvals),
            steps: perStep.sorted { ($0.key.flow, $0.key.step) < ($1.key.flow, $1.key.step) }.map {
                $0.value.figures(flow: $0.key.flow, step: $0.key.step)
            },
            releases: perVersion.values.sorted { ($0.flow, $0.version) < ($1.flow, $1.version) },
            recoveries: recoveries, timeToRecover: DurationSummary(recoveries.compactMap(\.milliseconds)),
            usage: perFlow.values.reduce(Usage.zero) { $0 + $1.usage },
            flows: perFlow.values.sorted { $0.flow < $1.flow })
    }

    /// Walks each flow's finished runs in the order they ended (cancelled runs neither open nor
    /// close an episode).
    private static func recoveries(of runs: [RunTimeline]) -> [Recovery] {
        let ended = runs.compactMap { run -> (run: RunTimeline, at: Timestamp)? in
            guard let at = run.finishedAt, run.outcome == .succeeded || run.outcome == .failed else {
                return nil
            }
            return (run, at)
        }.sorted { ($0.at, $0.run.runID) < ($1.at, $1.run.runID) }
        var open: [String: Int] = [:]
        var recoveries: [Recovery] = []
        for (run, at) in ended {
            if run.outcome == .failed, open[run.flow] == nil {
                open[run.flow] = recoveries.count
                recoveries.append(
                    Recovery(
                        flow: run.flow, failedRunID: run.runID, failedVersion: run.version, failedAt: at))
            } else if run.outcome == .succeeded, let index = open.removeValue(forKey: run.flow) {
                recoveries[index].recoveredRunID = run.runID
                recoveries[index].recoveredVersion = run.version
                recoveries[index].recoveredAt = at
            }
        }
        return recoveries
    }
}

private struct StepKey: Hashable {
    let flow: String
    let step: String
}

/// One step's attempts as they are gathered, run by run; the same rules as the totals (a duration only
/// for an attempt an executor started).
private struct StepSamples {
    let kind: String
    var attempts = 0
    var retries = 0
    var errorClasses: [ErrorClass: Int] = [:]
    var durations: [Int64] = []
    var queueTimes: [Int64] = []
    var usage = Usage.zero

    init(kind: String) { self.kind = kind }

    mutating func add(_ attempts: [AttemptTimeline], usage: Usage) {
        self.usage += usage
        for attempt in attempts {
            self.attempts += 1
            if let errorClass = attempt.errorClass { errorClasses[errorClass, default: 0] += 1 }
            if attempt.retry != nil { retries += 1 }
            if let queue = attempt.queueMilliseconds {
                queueTimes.append(queue)
                if let duration = attempt.durationMilliseconds { durations.append(duration) }
            }
        }
    }

    mutating func merge(_ other: StepSamples) {
        attempts += other.attempts
        retries += other.retries
        errorClasses.merge(other.errorClasses, uniquingKeysWith: +)
        durations += other.durations
        queueTimes += other.queueTimes
        usage += other.usage
    }

    func figures(flow: String, step: String) -> RunStatistics.StepFigures {
        RunStatistics.StepFigures(
            flow: flow, step: step, kind: kind, attempts: attempts, retries: retries,
            errorClasses: errorClasses, duration: DurationSummary(durations),
            queueTime: DurationSummary(queueTimes), usage: usage)
    }
}

private struct VersionKey: Hashable {
    let flow: String
    let version: Int

    init(_ flow: String, _ version: Int) {
        self.flow = flow
        self.version = version
    }
}

extension RunStatistics.RunCounts {
    fileprivate mutating func count(_ outcome: RunOutcome?) {
        total += 1
        switch outcome {
        case .succeeded: succeeded += 1
        case .failed: failed += 1
        case .cancelled: cancelled += 1
        case nil: unfinished += 1
        }
    }
}

extension RunStatistics.FlowFigures {
    fileprivate static func empty(_ flow: String) -> Self {
        Self(
            flow: flow, runs: 0, usage: .zero, currency: nil, budgetGates: 0, budgetGatesApproved: 0,
            budgetGatesRejected: 0)
    }

    /// Counts a run of this flow.
    fileprivate mutating func add(_ run: RunTimeline) {
        runs += 1
        usage += run.usage
        guard let budget = run.budget else { return }
        if let code = budget.currency { currency = code }
        budgetGates += budget.gates.count
        budgetGatesApproved += budget.gates.count { $0.decision == .approve }
        budgetGatesRejected += budget.gates.count { $0.decision != nil && $0.decision != .approve }
    }
}

extension RunStatistics.ReleaseFigures {
    fileprivate static func empty(_ flow: String, _ version: Int) -> Self {
        Self(flow: flow, version: version, runs: .init(), madeLive: 0, rollbacks: 0)
    }
}
