/// One flow step in one shadow run: where it went in the recorded run and in the shadow, and what
/// differs. Encoded as documented in docs/flows.md ("Shadow runs").
public struct ShadowStepReport: Sendable, Hashable, Encodable {
    /// How the step's definition changed from the recorded run's version to the shadowed one.
    public enum DefinitionChange: String, Sendable, Hashable, Encodable {
        case unchanged
        case changed
        case added
        case removed
    }

    /// What differs, most telling first.
    public enum Difference: String, Sendable, Hashable, Encodable {
        case none
        /// Only in the recorded run's version.
        case removed
        /// Only in the shadowed version (its rendered action is shown when the shadow reached it).
        case new
        /// Both rendered the step and the renderings differ: not executed, both shown.
        case actionChanged = "action_changed"
        /// Its `if:` skipped it on one side and not on the other.
        case conditionChanged = "condition_changed"
        /// The shadow reached it, the recorded run never ran it: its outcome is unknown, not executed.
        case unrecorded
        /// The shadow could not reach it because a step it needs was not executed (`waiting_on`): its
        /// inputs, and so its outputs, would change.
        case outputsUnknown = "outputs_unknown"
        /// Reached, skipped or not reached differently for another reason.
        case pathChanged = "path_changed"
    }

    public var step: String
    public var definition: DefinitionChange
    public var live: ShadowStepPath
    public var shadow: ShadowStepPath
    public var difference: Difference
    /// The recorded run's rendering, when the difference is in what the step would do.
    public var liveAction: JSONValue?
    /// The shadow's rendering, when the difference is in what the step would do.
    public var shadowAction: JSONValue?
    /// For `outputs_unknown`: the steps upstream that were not executed.
    public var waitingOn: [String]
    /// A difference in a step whose definition did not change: nothing the author edited explains it.
    public var unexplained: Bool

    enum CodingKeys: String, CodingKey {
        case step, definition, live, shadow, difference, unexplained
        case liveAction = "live_action"
        case shadowAction = "shadow_action"
        case waitingOn = "waiting_on"
    }

    /// Every key always present (null when empty), so readers need not guess.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(step, forKey: .step)
        try container.encode(definition, forKey: .definition)
        try container.encode(live, forKey: .live)
        try container.encode(shadow, forKey: .shadow)
        try container.encode(difference, forKey: .difference)
        try container.encode(liveAction, forKey: .liveAction)
        try container.encode(shadowAction, forKey: .shadowAction)
        try container.encode(waitingOn, forKey: .waitingOn)
        try container.encode(unexplained, forKey: .unexplained)
    }
}

/// Where a step went in one run.
public struct ShadowStepPath: Sendable, Hashable, Encodable {
    public enum Path: String, Sendable, Hashable, Encodable {
        /// An attempt began (`status` says how it ended; `not_executed` in a shadow that held it back).
        case reached
        case skipped
        /// Never became ready (or the run ended first).
        case notReached = "not_reached"
        /// The step is not in this side's version.
        case absent
    }

    public var path: Path
    /// The step's status (`succeeded`, `failed`, ...), `not_executed` for a step the shadow held back.
    public var status: String?
    /// Why it was skipped.
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case path, status, reason
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(status, forKey: .status)
        try container.encode(reason, forKey: .reason)
    }

    public static let absent = ShadowStepPath(path: .absent, status: nil, reason: nil)

    /// The status a shadow gives a step whose work it did not execute.
    public static let notExecuted = "not_executed"

    public var description: String {
        switch path {
        case .reached: "reached (\(status ?? "?"))"
        case .skipped: "skipped" + (reason.map { " (\($0))" } ?? "")
        case .notReached: "not reached"
        case .absent: "absent"
        }
    }
}
