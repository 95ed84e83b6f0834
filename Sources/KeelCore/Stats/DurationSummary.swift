/// Percentiles of a set of lengths of time, in milliseconds, by the nearest-rank method: the p-th
/// percentile of n sorted values is the value at rank ⌈p/100 · n⌉ (1-based), so it is always one of
/// the observed values. Every figure is nil when there are no values.
public struct DurationSummary: Sendable, Hashable {
    public var count: Int
    public var p50: Int64?
    public var p90: Int64?
    public var p99: Int64?
    public var max: Int64?

    public init(_ values: some Sequence<Int64>) {
        let sorted = values.sorted()
        count = sorted.count
        p50 = Self.percentile(50, of: sorted)
        p90 = Self.percentile(90, of: sorted)
        p99 = Self.percentile(99, of: sorted)
        max = sorted.last
    }

    /// The nearest-rank `p`-th percentile (0 < p ≤ 100) of ascending `sorted`; nil when it is empty.
    public static func percentile(_ p: Int, of sorted: [Int64]) -> Int64? {
        guard !sorted.isEmpty else { return nil }
        let rank = (p * sorted.count + 99) / 100
        return sorted[Swift.min(Swift.max(rank, 1), sorted.count) - 1]
    }
}
