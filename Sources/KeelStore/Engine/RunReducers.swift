public import KeelCore
import Synchronization

/// Reducers of flow versions, built once per process: versions are immutable, so a (flow, version)
/// pair always means the same reducer, and advancing a run need not decode its definition again.
public final class RunReducers: Sendable {
    private let cache = Mutex<[String: RunReducer]>([:])
    /// Beyond this many versions the cache starts over; a busy installation runs far fewer at once.
    private let capacity: Int

    public init(capacity: Int = 1_000) {
        self.capacity = capacity
    }

    /// The reducer of a stored version, from the cache or built from its canonical JSON.
    public func reducer(flow: String, version: Int, definition: () throws -> String) throws -> RunReducer {
        let key = "\(flow)@\(version)"
        if let hit = cache.withLock({ $0[key] }) { return hit }
        let reducer = RunReducer(flow: try FlowDefinition(canonicalJSON: JSONValue(parsing: definition())))
        cache.withLock { cache in
            if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            cache[key] = reducer
        }
        return reducer
    }

    /// The cached reducer, if this process built it before.
    func cached(flow: String, version: Int) -> RunReducer? {
        cache.withLock { $0["\(flow)@\(version)"] }
    }
}
