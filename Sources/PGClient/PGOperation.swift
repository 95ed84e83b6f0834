import CLibPQ
import Synchronization

/// Sends cancel requests for a connection's running statement. libpq documents `PQcancel` as safe to
/// call from any thread, so this is the one piece of a connection used off its queue.
final class PGCanceller: @unchecked Sendable {
  private let cancel: OpaquePointer?

  init(connection: OpaquePointer) {
    cancel = PQgetCancel(connection)
  }

  deinit {
    if let cancel { PQfreeCancel(cancel) }
  }

  /// Asks the server to cancel whatever the connection runs now; returns whether the request was sent.
  @discardableResult
  func send() -> Bool {
    guard let cancel else { return false }
    var errorBuffer = [CChar](repeating: 0, count: 256)
    return PQcancel(cancel, &errorBuffer, Int32(errorBuffer.count)) == 1
  }
}

/// One blocking operation on a connection's queue and its cancellation: a cancel before the
/// operation starts skips it; a cancel while it runs sends `PQcancel`; a cancel afterwards does
/// nothing. The lock is held while the cancel request goes out, so it cannot hit the next operation.
final class PGOperation: Sendable {
  private enum Phase {
    case waiting, running, cancelRequested, cancelledBeforeStart, finished
  }

  private let phase = Mutex(Phase.waiting)
  private let canceller: PGCanceller?

  init(canceller: PGCanceller?) {
    self.canceller = canceller
  }

  /// Marks the operation running; false when it was cancelled before it could start.
  func start() -> Bool {
    phase.withLock { phase in
      guard case .waiting = phase else { return false }
      phase = .running
      return true
    }
  }

  /// Marks the operation finished; returns whether a cancel was requested while it ran.
  func finish() -> Bool {
    phase.withLock { phase in
      defer { phase = .finished }
      if case .cancelRequested = phase { return true }
      return false
    }
  }

  /// Whether the operation should stop: polled by operations (like connecting) that can check.
  var isCancelled: Bool {
    phase.withLock { phase in
      switch phase {
      case .cancelRequested, .cancelledBeforeStart: true
      case .waiting, .running, .finished: false
      }
    }
  }

  func cancel() {
    phase.withLock { phase in
      switch phase {
      case .waiting:
        phase = .cancelledBeforeStart
      case .running:
        canceller?.send()
        phase = .cancelRequested
      case .cancelRequested, .cancelledBeforeStart, .finished:
        break
      }
    }
  }
}
