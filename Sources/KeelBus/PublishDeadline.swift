/// A publish that got no confirm in time: the broker may be blocking publishers (a memory or disk
/// alarm, `connection.blocked`) or be unreachable. The message stays where it was (the outbox) and is
/// tried again later.
public struct PublishTimedOut: Error, CustomStringConvertible {
    public var timeout: Duration
    public var description: String {
        "no publisher confirm within \(timeout) (is the broker blocking publishers?)"
    }
}

/// Runs `publish`, cancelling it and throwing `PublishTimedOut` when it has not finished after `timeout`:
/// no publish may wait on the broker for ever.
func withPublishDeadline(_ timeout: Duration, _ publish: @escaping @Sendable () async throws -> Void)
    async throws
{
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await publish() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw PublishTimedOut(timeout: timeout)
        }
        defer { group.cancelAll() }
        try await group.next()
    }
}
