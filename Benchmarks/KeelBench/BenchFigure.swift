/// One measured figure of the harness, printed beside its raw-C baseline from the same run.
struct BenchFigure: Sendable {
    /// What was measured, e.g. "confirmed publishes/s".
    var name: String
    /// The figure through Keel's Swift client.
    var swift: Double
    /// The same work done directly with the C library, in the same run.
    var raw: Double
    /// Workload description: message size, count, prefetch, and so on.
    var workload: String

    /// The Swift layer's cost as a fraction of the raw figure (0.1 = 10% slower).
    var overhead: Double { raw > 0 ? 1 - swift / raw : 0 }
}
