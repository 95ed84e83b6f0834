public import Foundation
public import KeelCore

/// Which runs a listing asks for (`keel run list`, `GET /v1/runs`, the console's runs page); every field
/// narrows it, nil fields do not.
public struct RunFilter: Sendable, Hashable {
    public var flow: String?
    /// pending, running, waiting, succeeded, failed or cancelled.
    public var status: String?
    public var requester: String?
    /// Created at or after.
    public var since: Date?
    /// Created before.
    public var until: Date?
    /// Text the run's input contains (case-insensitive, matched against the input's JSON text).
    public var text: String?
    /// Only runs older than this run id (the previous page's last): ids are time-ordered UUIDv7.
    public var before: RunID?
    public var limit: Int

    /// The most runs one listing returns.
    public static let maximumLimit = 500
    public static let statuses = ["pending", "running", "waiting", "succeeded", "failed", "cancelled"]

    public init(
        flow: String? = nil, status: String? = nil, requester: String? = nil, since: Date? = nil,
        until: Date? = nil, text: String? = nil, before: RunID? = nil, limit: Int = 50
    ) {
        self.flow = flow
        self.status = status
        self.requester = requester
        self.since = since
        self.until = until
        self.text = text
        self.before = before
        self.limit = limit
    }
}
