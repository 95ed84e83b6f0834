/// `keel flow shadow`'s answer: recorded runs of a flow replayed against one of its versions, the
/// definition changes from each recorded version, and the totals. Encoded as documented in
/// docs/flows.md ("Shadow runs"); the shape is stable (fields are only ever added).
public struct ShadowReport: Sendable, Hashable, Encodable {
    public var flow: String
    /// The version shadowed.
    public var version: Int
    /// From each version the runs ran to `version`, oldest version first.
    public var definitionChanges: [FlowDefinitionDiff]
    /// Newest run first, as chosen.
    public var runs: [ShadowRunReport]

    public init(flow: String, version: Int, definitionChanges: [FlowDefinitionDiff], runs: [ShadowRunReport])
    {
        self.flow = flow
        self.version = version
        self.definitionChanges = definitionChanges
        self.runs = runs
    }

    /// Shadows every recording against `candidate` (version `version` of `flow`).
    public init(flow: String, version: Int, candidate: FlowDefinition, recordings: [ShadowRecording]) {
        let simulator = ShadowSimulator(flow: candidate, version: version)
        var diffs: [Int: FlowDefinitionDiff] = [:]
        for recording in recordings where diffs[recording.version] == nil {
            diffs[recording.version] = FlowDefinitionDiff(
                from: recording.flow, version: recording.version, to: candidate, version: version)
        }
        self.init(
            flow: flow, version: version, definitionChanges: diffs.keys.sorted().compactMap { diffs[$0] },
            runs: recordings.map(simulator.shadow))
    }

    /// One step's differences over all runs.
    public struct StepTotal: Sendable, Hashable, Encodable {
        public var step: String
        public var difference: ShadowStepReport.Difference
        /// In how many runs.
        public var runs: Int
        public var unexplained: Bool
    }

    /// Each (step, difference) seen, in first-seen order, with the runs it was seen in.
    public var stepTotals: [StepTotal] {
        var totals: [StepTotal] = []
        for run in runs {
            for step in run.differences {
                if let index = totals.firstIndex(where: {
                    $0.step == step.step && $0.difference == step.difference
                }) {
                    totals[index].runs += 1
                    totals[index].unexplained = totals[index].unexplained || step.unexplained
                } else {
                    totals.append(
                        StepTotal(
                            step: step.step, difference: step.difference, runs: 1,
                            unexplained: step.unexplained))
                }
            }
        }
        return totals
    }

    /// Runs with at least one difference.
    public var runsWithDifferences: Int { runs.filter { !$0.differences.isEmpty }.count }

    /// Runs with at least one unexplained difference.
    public var runsWithUnexplainedDifferences: Int { runs.filter { !$0.unexplained.isEmpty }.count }

    /// Whether any run shows a difference no definition change explains (`--require-shadow` refuses).
    public var hasUnexplainedDifferences: Bool { runsWithUnexplainedDifferences > 0 }

    enum CodingKeys: String, CodingKey {
        case flow, version, runs, totals
        case definitionChanges = "definition_changes"
    }

    enum TotalKeys: String, CodingKey {
        case runs, steps
        case runsWithDifferences = "runs_with_differences"
        case runsWithUnexplainedDifferences = "runs_with_unexplained_differences"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(flow, forKey: .flow)
        try container.encode(version, forKey: .version)
        try container.encode(definitionChanges, forKey: .definitionChanges)
        var totals = container.nestedContainer(keyedBy: TotalKeys.self, forKey: .totals)
        try totals.encode(runs.count, forKey: .runs)
        try totals.encode(runsWithDifferences, forKey: .runsWithDifferences)
        try totals.encode(runsWithUnexplainedDifferences, forKey: .runsWithUnexplainedDifferences)
        try totals.encode(stepTotals, forKey: .steps)
        try container.encode(runs, forKey: .runs)
    }
}
