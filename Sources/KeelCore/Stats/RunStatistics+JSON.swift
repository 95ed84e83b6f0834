/// The `keel stats --json` document (docs/cli.md). Every key is always present, `null` when it has no
/// value; lengths of time are whole milliseconds, times RFC 3339.
extension RunStatistics: Encodable {
    private enum Key: String, CodingKey {
        case runs, successRate, errorClasses, retries, runRetries, stepDurationMs, queueMs, waitMs
        case approvalTurnaroundMs, steps, releases, recoveries, timeToRecoverMs, usage, flows
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(runs, forKey: .runs)
        try container.encode(successRate, forKey: .successRate)
        try container.encode(
            Dictionary(
                uniqueKeysWithValues: ErrorClass.allCases.map { ($0.rawValue, errorClasses[$0] ?? 0) }),
            forKey: .errorClasses)
        try container.encode(retries, forKey: .retries)
        try container.encode(runRetries, forKey: .runRetries)
        try container.encode(stepDuration, forKey: .stepDurationMs)
        try container.encode(queueTime, forKey: .queueMs)
        try container.encode(waitDuration, forKey: .waitMs)
        try container.encode(approvalTurnaround, forKey: .approvalTurnaroundMs)
        try container.encode(steps, forKey: .steps)
        try container.encode(releases, forKey: .releases)
        try container.encode(recoveries, forKey: .recoveries)
        try container.encode(timeToRecover, forKey: .timeToRecoverMs)
        try container.encode(usage, forKey: .usage)
        try container.encode(flows, forKey: .flows)
    }
}

extension RunStatistics.FlowFigures: Encodable {
    private enum Key: String, CodingKey {
        case flow, runs, usage, currency, budgetGates, budgetGatesApproved, budgetGatesRejected
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(flow, forKey: .flow)
        try container.encode(runs, forKey: .runs)
        try container.encode(usage, forKey: .usage)
        try container.encode(currency, forKey: .currency)
        try container.encode(budgetGates, forKey: .budgetGates)
        try container.encode(budgetGatesApproved, forKey: .budgetGatesApproved)
        try container.encode(budgetGatesRejected, forKey: .budgetGatesRejected)
    }
}

extension DurationSummary: Encodable {
    private enum Key: String, CodingKey { case count, p50, p90, p99, max }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(count, forKey: .count)
        try container.encode(p50, forKey: .p50)
        try container.encode(p90, forKey: .p90)
        try container.encode(p99, forKey: .p99)
        try container.encode(max, forKey: .max)
    }
}

extension RunStatistics.RunCounts: Encodable {
    private enum Key: String, CodingKey { case total, succeeded, failed, cancelled, unfinished }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(total, forKey: .total)
        try container.encode(succeeded, forKey: .succeeded)
        try container.encode(failed, forKey: .failed)
        try container.encode(cancelled, forKey: .cancelled)
        try container.encode(unfinished, forKey: .unfinished)
    }
}

extension RunStatistics.StepFigures: Encodable {
    private enum Key: String, CodingKey {
        case flow, step, kind, attempts, retries, errorClasses, durationMs, queueMs, usage
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(flow, forKey: .flow)
        try container.encode(step, forKey: .step)
        try container.encode(kind, forKey: .kind)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(retries, forKey: .retries)
        try container.encode(
            Dictionary(
                uniqueKeysWithValues: ErrorClass.allCases.map { ($0.rawValue, errorClasses[$0] ?? 0) }),
            forKey: .errorClasses)
        try container.encode(duration, forKey: .durationMs)
        try container.encode(queueTime, forKey: .queueMs)
        try container.encode(usage, forKey: .usage)
    }
}

extension RunStatistics.ReleaseFigures: Encodable {
    private enum Key: String, CodingKey { case flow, version, runs, madeLive, rollbacks }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(flow, forKey: .flow)
        try container.encode(version, forKey: .version)
        try container.encode(runs, forKey: .runs)
        try container.encode(madeLive, forKey: .madeLive)
        try container.encode(rollbacks, forKey: .rollbacks)
    }
}

extension RunStatistics.Recovery: Encodable {
    private enum Key: String, CodingKey {
        case flow, failedRunID, failedVersion, failedAt, recoveredRunID, recoveredVersion, recoveredAt, ms
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(flow, forKey: .flow)
        try container.encode(failedRunID, forKey: .failedRunID)
        try container.encode(failedVersion, forKey: .failedVersion)
        try container.encode(failedAt, forKey: .failedAt)
        try container.encode(recoveredRunID, forKey: .recoveredRunID)
        try container.encode(recoveredVersion, forKey: .recoveredVersion)
        try container.encode(recoveredAt, forKey: .recoveredAt)
        try container.encode(milliseconds, forKey: .ms)
    }
}
