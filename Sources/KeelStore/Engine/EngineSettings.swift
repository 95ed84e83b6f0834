/// How runs are routed to executors and how long an executor's claim on an attempt lasts. Every
/// service that advances runs must use the same `stepShards`, since it decides queue names.
public struct EngineSettings: Sendable, Hashable {
    /// Queues per executor pool: `keel.steps.<pool>.0` … `<shards - 1>` (`KEEL_STEP_SHARDS`).
    public var stepShards: Int
    /// How long a claimed attempt stays the executor's without a heartbeat (`KEEL_STEP_LEASE`).
    public var leaseDuration: Duration

    public init(stepShards: Int = 4, leaseDuration: Duration = .seconds(30)) {
        self.stepShards = max(1, stepShards)
        self.leaseDuration = leaseDuration
    }
}
