public import Foundation
public import KeelCore

/// One schedule of a flow's live release, with where it stands.
public struct ScheduleRecord: Sendable {
    public var flow: String
    public var schedule: FlowSchedule
    /// The release it comes from.
    public var version: Int
    public var paused: Bool
    /// The next tick; nil when paused or when the schedule has no more ticks.
    public var nextFireAt: Date?
    /// The last tick handled: fired, or skipped as missed.
    public var lastTickAt: Date?
    /// The run the last fired tick started.
    public var lastRunID: RunID?
}
