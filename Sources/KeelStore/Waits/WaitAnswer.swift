public import Foundation
import KeelCore

/// How a wait ended, as stored in `waits.outcome` and told to every callback that arrives after it.
public enum WaitEnding: String, Sendable, Hashable, Codable, CaseIterable {
    /// A callback reported success, partial success or failure.
    case succeeded, partial, failed
    /// The wait's timeout, or its heartbeat interval, passed first.
    case timedOut = "timed_out"
    /// The run was cancelled (or the step stopped) while the wait was open.
    case cancelled
    /// The run went back past the step: a later attempt has a wait of its own.
    case void
    /// The approval requested beside the wait was decided first: the decision ended the step.
    case decided

    /// True when a callback closed the wait.
    public var isCallback: Bool { self == .succeeded || self == .partial || self == .failed }

    init(_ status: CallbackStatus) {
        switch status {
        case .succeeded: self = .succeeded
        case .partial: self = .partial
        case .failed, .heartbeat: self = .failed
        }
    }
}

/// The stored answer of a closed wait: `{"wait_id", "status", "closed_at"}`. A duplicate or late callback
/// gets exactly this, never a second application.
public struct WaitAnswer: Sendable, Hashable, Codable {
    public var waitID: String
    public var status: WaitEnding
    public var closedAt: Date

    public init(waitID: String, status: WaitEnding, closedAt: Date) {
        self.waitID = waitID
        self.status = status
        self.closedAt = closedAt
    }

    enum CodingKeys: String, CodingKey {
        case status
        case waitID = "wait_id"
        case closedAt = "closed_at"
    }

    var json: JSONValue {
        [
            "wait_id": .string(waitID), "status": .string(status.rawValue),
            "closed_at": .string(closedAt.formatted(.iso8601)),
        ]
    }

    init?(json: JSONValue) {
        guard let object = json.objectValue, let waitID = object["wait_id"]?.stringValue,
            let status = object["status"]?.stringValue.flatMap(WaitEnding.init(rawValue:)),
            let closed = object["closed_at"]?.stringValue,
            let closedAt = try? Date(closed, strategy: .iso8601)
        else { return nil }
        self.init(waitID: waitID, status: status, closedAt: closedAt)
    }
}
