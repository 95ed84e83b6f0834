/// A recorded run to shadow: the flow version it pinned and its whole history.
public struct ShadowRecording: Sendable {
    public var flow: FlowDefinition
    public var version: Int
    public var facts: [RunFact]

    public init(flow: FlowDefinition, version: Int, facts: [RunFact]) {
        self.flow = flow
        self.version = version
        self.facts = facts
    }
}
