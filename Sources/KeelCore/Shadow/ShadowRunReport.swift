/// One recorded run replayed against the shadowed version.
public struct ShadowRunReport: Sendable, Hashable, Encodable {
    public var runID: String
    /// The version the run ran.
    public var recordedVersion: Int
    /// The recorded run's outcome (`succeeded`, `failed`, `cancelled`), or its status when unfinished.
    public var liveOutcome: String
    /// The shadow's outcome, or `incomplete` when a step it did not execute kept it from finishing.
    public var shadowOutcome: String
    /// Every step of either version: the shadowed version's in order, then the removed ones.
    public var steps: [ShadowStepReport]

    enum CodingKeys: String, CodingKey {
        case steps, differences, unexplained
        case runID = "run_id"
        case recordedVersion = "recorded_version"
        case liveOutcome = "live_outcome"
        case shadowOutcome = "shadow_outcome"
    }

    /// The steps with a difference.
    public var differences: [ShadowStepReport] { steps.filter { $0.difference != .none } }

    /// The steps with an unexplained difference.
    public var unexplained: [ShadowStepReport] { steps.filter(\.unexplained) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(runID, forKey: .runID)
        try container.encode(recordedVersion, forKey: .recordedVersion)
        try container.encode(liveOutcome, forKey: .liveOutcome)
        try container.encode(shadowOutcome, forKey: .shadowOutcome)
        try container.encode(differences.count, forKey: .differences)
        try container.encode(unexplained.count, forKey: .unexplained)
        try container.encode(steps, forKey: .steps)
    }
}
