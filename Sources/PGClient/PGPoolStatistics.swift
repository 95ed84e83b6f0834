/// How busy a `PGPool` is at one moment.
public struct PGPoolStatistics: Sendable, Hashable {
    /// Connections that exist or are being opened (idle plus in use); never more than the pool's size.
    public var open: Int
    /// Open connections nobody is using.
    public var idle: Int
    /// Callers waiting for a connection because all `size` are in use.
    public var waiting: Int

    public init(open: Int, idle: Int, waiting: Int) {
        self.open = open
        self.idle = idle
        self.waiting = waiting
    }
}
