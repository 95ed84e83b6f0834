/// `map:` on a step: run it once per element of a list computed when its turn comes.
///
/// Each element is its own step of the run, named `<step>[<index>]` in the history, with its own
/// attempts, retries, timeouts and idempotency key; its templates read `map.item` and `map.index`.
/// The mapped step finishes when every element has: succeeded with `outputs.results` (each element's
/// outputs, in list order) and `outputs.count` when all succeeded, failed otherwise.
public struct StepMap: Sendable, Hashable {
    /// Most elements one map may have: each is a step of the run's state and history.
    public static let maximumElements = 1_000

    /// Template evaluating to the list (`${{ steps.plan.outputs.shards }}`).
    public var over: String
    /// How many elements may be scheduled or running at once in one run.
    public var maxConcurrency: Int

    public init(over: String, maxConcurrency: Int) {
        self.over = over
        self.maxConcurrency = maxConcurrency
    }
}

/// Names the elements of a mapped step: `apply[3]` is element 3 of step `apply`.
public enum MapElement {
    /// The element id of `step`'s element `index`.
    public static func id(_ step: String, _ index: Int) -> String { "\(step)[\(index)]" }

    /// The mapped step and index an element id names, or nil for a plain step id.
    public static func parse(_ id: String) -> (step: String, index: Int)? {
        guard id.last == "]", let open = id.lastIndex(of: "[") else { return nil }
        guard let index = Int(id[id.index(after: open)..<id.index(before: id.endIndex)]), index >= 0 else {
            return nil
        }
        return (String(id[..<open]), index)
    }
}
