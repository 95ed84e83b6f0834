import Foundation
import KeelCore
import KeelStore

/// A live schedule as `keel schedule list` and `keel flow show` print it (and its JSON shape).
struct ScheduleLine: Encodable {
    var flow: String
    var id: String
    /// `cron 0 3 * * * (UTC)` or `every 15m`.
    var when: String
    var missed: String
    var version: Int
    var paused: Bool
    var nextFireAt: Date?
    var lastTickAt: Date?
    var lastRunID: RunID?

    init(_ record: ScheduleRecord) {
        flow = record.flow
        id = record.schedule.id
        when = record.schedule.summary
        missed = record.schedule.missed.rawValue
        version = record.version
        paused = record.paused
        nextFireAt = record.nextFireAt
        lastTickAt = record.lastTickAt
        lastRunID = record.lastRunID
    }

    var nextText: String {
        if paused { return "paused" }
        return nextFireAt.map { FlowSchedule.tickText($0) } ?? "never"
    }
}
