import KeelCore
import PGClient

/// An error a delivery handler throws that no retry can resolve, with a reason fit to send back and to
/// keep on the dead letter (it names what is wrong, never the message's values or a secret).
public protocol PermanentDeliveryError: Error {
    var publicReason: String { get }
}

/// How a handler's failure is treated: whether the delivery can ever succeed.
public enum DeliveryFailure: Sendable, Hashable {
    /// It never can: the message is answered and dead-lettered at once, with `reason`.
    case permanent(reason: String)
    /// It may pass later (the database is down, a serialization conflict): retried in place with
    /// backoff a bounded number of times, then handed back to the broker.
    case transient

    /// Sorts an error a handler threw. Unknown errors are transient: holding a message back a little
    /// longer is the safe mistake, and the queue's delivery limit still bounds it.
    public init(_ error: any Error) {
        switch error {
        case let error as any PermanentDeliveryError:
            self = .permanent(reason: error.publicReason)
        case let error as PGError where error.isPermanent:
            self = .permanent(reason: "PostgreSQL refused the message's data: \(error.dataFreeDescription)")
        case let error as UnstorableValue:
            self = .permanent(reason: "\(error)")
        case is DecodingError:
            self = .permanent(reason: "the message could not be decoded")
        default:
            self = .transient
        }
    }
}

/// A message larger than its consumer reads: refused before any work, and kept whole in the
/// dead-letter queue (not in the database).
public struct OversizeMessage: PermanentDeliveryError, CustomStringConvertible {
    public var bytes: Int
    public var limit: Int

    public init(bytes: Int, limit: Int) {
        self.bytes = bytes
        self.limit = limit
    }

    public var publicReason: String { "the message body is \(bytes) bytes; at most \(limit) are read" }
    public var description: String { publicReason }
}
