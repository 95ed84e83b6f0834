/// Bounds on what the flow parser accepts, so hostile YAML fails with an error instead of
/// exhausting the stack, memory or time.
public struct FlowLimits: Sendable, Hashable {
    /// Largest YAML text, in bytes.
    public var maximumBytes: Int
    /// Deepest nesting of mappings and lists (measured conservatively on the text).
    public var maximumDepth: Int
    /// Most values in the document after expanding aliases (billion-laughs protection).
    public var maximumNodes: Int
    /// Most steps in one flow.
    public var maximumSteps: Int

    public init(
        maximumBytes: Int = 4 << 20, maximumDepth: Int = 64, maximumNodes: Int = 250_000,
        maximumSteps: Int = 2_000
    ) {
        self.maximumBytes = maximumBytes
        self.maximumDepth = maximumDepth
        self.maximumNodes = maximumNodes
        self.maximumSteps = maximumSteps
    }
}
