public import Logging

extension Logger {
    /// This logger with the run's identity (`RunLogContext`) on every line it writes: for code that
    /// logs several lines about the same attempt (a step kind, the ssh reaper).
    public func forRun(_ context: RunLogContext) -> Logger {
        var logger = self
        for (key, value) in context.metadata { logger[metadataKey: key] = value }
        return logger
    }
}
