import Dispatch

/// Runs blocking file system calls on a Dispatch queue, never on Swift's cooperative thread pool.
enum BlockingFiles {
    private static let queue = DispatchQueue(label: "keel.step-executor.files", attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
