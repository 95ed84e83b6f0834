/// Tells this replica's sender that deliveries were just written, so the first attempt goes out at
/// once instead of at the next poll (other replicas find them by polling).
final class WebhookWakeup: Sendable {
    let signals: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (signals, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func signal() {
        continuation.yield()
    }

    /// Returns after a signal or `timeout`, whichever comes first (at once if a signal is waiting).
    func wait(upTo timeout: Duration) async {
        let signals = signals
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals { return }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}
