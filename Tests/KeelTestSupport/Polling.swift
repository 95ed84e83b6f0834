/// Waiting for something another process or thread does, without guessing a fixed pause: poll, and give
/// up only after a limit generous enough for a loaded 2-core CI machine.

/// Polls `condition` every `interval` until it holds or `limit` passes, then asks once more; returns
/// whether it held, for the caller to assert on.
public func eventually(
    within limit: Duration = .seconds(60), every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}

/// Polls `condition` as `eventually` does, and throws `TimedOut` naming `what` when it never holds.
public func waitUntil(
    _ what: String, within limit: Duration = .seconds(60), every interval: Duration = .milliseconds(100),
    _ condition: () async throws -> Bool
) async throws {
    guard try await eventually(within: limit, every: interval, condition) else {
        throw TimedOut(what: what, limit: limit)
    }
}

/// What `waitUntil` throws: what never happened, and how long it was given.
public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public let limit: Duration

    public init(what: String, limit: Duration) {
        self.what = what
        self.limit = limit
    }

    public var description: String { "timed out after \(limit) waiting for \(what)" }
}
