import KeelCore
import KeelStore
import Synchronization

/// Flow versions decoded and their input schemas compiled once per process: versions are immutable,
/// so a (flow, version) pair always means the same thing, and a trigger need not parse the stored
/// definition and compile its schema again.
final class CompiledFlows: Sendable {
    struct Compiled: Sendable {
        var definition: FlowDefinition
        var inputSchema: JSONSchema?
    }

    private let cache = Mutex<[String: Compiled]>([:])
    /// Beyond this many versions the cache starts over; a busy installation runs far fewer at once.
    private let capacity: Int

    /// The reducers the trigger's `RunAdvancer` uses.
    let reducers: RunReducers

    init(reducers: RunReducers, capacity: Int = 1_000) {
        self.reducers = reducers
        self.capacity = capacity
    }

    func compiled(_ version: FlowVersionRecord) throws -> Compiled {
        let key = "\(version.flow)@\(version.version)"
        if let hit = cache.withLock({ $0[key] }) { return hit }
        // Decoded once for both: the run's advancer finds the same reducer in `reducers`.
        let definition = try reducers.reducer(flow: version.flow, version: version.version) {
            version.definition
        }.flow
        let compiled = Compiled(
            definition: definition, inputSchema: try definition.input.map { try JSONSchema($0) })
        cache.withLock { cache in
            if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            cache[key] = compiled
        }
        return compiled
    }
}
