public import KeelCore

/// Where an attempt's dispatch goes: the pool named by the step's `runs_on` labels and a shard chosen by
/// the run's `shard_key`, as the queue `keel.steps.<pool>.<shard>`.
public struct StepRoute: Sendable, Hashable {
    /// The sorted `runs_on` labels joined with `+`, or `default` for any executor.
    public var pool: String
    public var shard: Int

    public init(pool: String, shard: Int) {
        self.pool = pool
        self.shard = shard
    }

    public init(_ attempt: ScheduledAttempt, shards: Int) {
        pool = Self.pool(runsOn: attempt.runsOn)
        shard = Self.shard(of: attempt.shardKey, shards: shards)
    }

    /// The routing key on `keel.steps`.
    public var routingKey: String { "\(pool).\(shard)" }

    public static func pool(runsOn labels: [String]) -> String {
        labels.isEmpty ? "default" : labels.sorted().joined(separator: "+")
    }

    /// FNV-1a (64-bit) of the key's UTF-8, modulo `shards`: stable across processes, versions and
    /// platforms (unlike `hashValue`), so one key always lands on one queue.
    public static func shard(of key: String, shards: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int(hash % UInt64(max(1, shards)))
    }
}
