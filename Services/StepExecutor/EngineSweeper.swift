import Foundation
import KeelStore
import Logging
import PGClient
import ServiceLifecycle
import Synchronization

/// Fires due timers (retry delays, step, queue and run timeouts) and takes back attempts whose lease
/// expired. Any number of executors run one; the stores make sure each timer fires once and each
/// attempt is taken back once.
///
/// After each sweep it knows when the next timer is due and sweeps again then (at the latest after
/// `maximumSleep`); a newly armed timer wakes it at once (`NOTIFY keel_timers`), so a short retry delay
/// is not held back by a poll interval.
final class EngineSweeper: Service, Sendable {
    let timers: TimerStore
    let attempts: AttemptStore
    let pool: PGPool
    let logger: Logger
    let maximumSleep: TimeInterval
    /// When the next sweep is due.
    private let nextSweep = Mutex(Date.distantPast)

    init(
        timers: TimerStore, attempts: AttemptStore, pool: PGPool, logger: Logger,
        maximumSleep: TimeInterval = 1
    ) {
        self.timers = timers
        self.attempts = attempts
        self.pool = pool
        self.logger = logger
        self.maximumSleep = maximumSleep
    }

    func run() async throws {
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                while !Task.isCancelled {
                    do {
                        let notifications = try await pool.listen("keel_timers")
                        for await _ in notifications { wake.yield() }
                    } catch {
                        logger.debug(
                            "timer listener failed; listening again", metadata: ["error": "\(error)"])
                    }
                    try await Task.sleep(for: .seconds(1))
                }
            }
            group.addTask { [self] in
                while !Task.isCancelled {
                    if nextSweep.withLock({ $0 }) <= Date() { wake.yield() }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            group.addTask { [self] in
                for await _ in wakeups { await sweep() }
            }
            try await gracefulShutdown()
            wake.finish()
            group.cancelAll()
        }
    }

    private func sweep() async {
        var next = Date(timeIntervalSinceNow: maximumSleep)
        do {
            while true {
                let fired = try await timers.fireDueTimers()
                for timer in fired { log(timer) }
                if fired.isEmpty { break }
            }
            for attempt in try await attempts.reclaimExpiredAttempts() {
                logger.warning(
                    "lease expired (its executor stopped heartbeating); attempt dispatched again",
                    metadata: attempt.metadata)
            }
            if let due = try await timers.nextDue() { next = min(next, due) }
        } catch {
            logger.warning("timer sweep failed; trying again", metadata: ["error": "\(error)"])
        }
        nextSweep.withLock { $0 = next }
    }

    /// One line per fired timer: what it was for, with the run's fields (and the step and attempt it was
    /// armed for). Approval and wait timeouts are decided here, so this is their line.
    private func log(_ timer: FiredTimer) {
        let fields: Logger.Metadata = ["timer": .string(timer.kind), "timer_id": .string(timer.id)]
        logger.info("timer fired", metadata: timer.logContext?.metadata(adding: fields) ?? fields)
    }
}
