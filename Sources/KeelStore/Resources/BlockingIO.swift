import Dispatch

/// Runs blocking file system calls on a Dispatch queue, never on Swift's cooperative thread pool, one
/// call (one chunk) at a time, so cancellation is seen between chunks. Shared by the resource stores and
/// step-executor's per-attempt files.
public enum BlockingIO {
    private static let queue = DispatchQueue(label: "keel.blocking-io", attributes: .concurrent)

    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
