import Foundation
import KeelCore
import KeelStore
import Logging
import Metrics
import PGClient
import ServiceLifecycle

/// Fires the live schedules' ticks (docs/flows.md#schedules): each due tick becomes a run of the flow's
/// live release, created as a trigger's would be, then the schedule moves on to its next tick.
///
/// Every trigger-intake replica runs one, and they may race for the same tick: the run's idempotency
/// key is the schedule and the tick (`schedule:<id>:<tick>`), so a tick makes one run, and the schedule
/// moves on only from the tick it still holds (compare and set). A replica that dies between creating
/// the run and moving on leaves the tick due; the next sweep finds the run already there and moves on.
/// A tick found more than `FlowSchedule.lateness` late was missed: skipped, or fired once for the latest
/// missed tick, as the schedule says.
final class ScheduleFirer: Service, Sendable {
    let schedules: ScheduleStore
    let handler: TriggerHandler
    let logger: Logger
    /// The longest sleep between looks (a release can bring a tick due sooner than the last look saw).
    let maximumSleep: Duration

    /// - Parameter handler: the trigger consumer's own, so both share one cache of compiled flows.
    init(handler: TriggerHandler, logger: Logger, maximumSleep: Duration = .seconds(1)) {
        self.schedules = ScheduleStore(pool: handler.pool)
        self.handler = handler
        self.logger = logger
        self.maximumSleep = maximumSleep
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var sleep = self.maximumSleep
                do {
                    try await self.fireDue(now: Date())
                    if let due = try await self.schedules.nextDue() {
                        let seconds = max(
                            0.02, min(due.timeIntervalSinceNow, Double(self.maximumSleep.components.seconds)))
                        sleep = .milliseconds(Int64(seconds * 1000))
                    }
                } catch {
                    self.logger.warning(
                        "schedule sweep failed; trying again", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: sleep)
            }
        }
    }

    /// Handles every tick due at `now`.
    func fireDue(now: Date) async throws {
        for record in try await schedules.due(now: now) {
            guard let tick = record.nextFireAt else { continue }
            let schedule = record.schedule
            let missed = now.timeIntervalSince(tick) > FlowSchedule.lateness
            let firing: Date? =
                missed
                ? (schedule.missed == .runOnce ? schedule.latestTick(from: tick, notAfter: now) : nil) : tick
            var runID: RunID?
            if let firing {
                runID = try await start(record, tick: firing)
            } else {
                logger.warning(
                    "schedule tick missed; skipped",
                    metadata: [
                        "flow": "\(record.flow)", "schedule": "\(schedule.id)",
                        "tick": "\(FlowSchedule.tickText(tick))",
                    ])
                Counter(label: "keel_schedule_ticks_total", dimensions: [("outcome", "skipped")]).increment()
            }
            let next = schedule.nextTick(after: missed ? now : tick)
            _ = try await schedules.advance(
                flow: record.flow, id: schedule.id, from: tick, to: next, handled: firing ?? tick,
                runID: runID)
        }
    }

    /// Creates the tick's run (or finds the one a racing replica created); nil when the flow cannot
    /// start one (no live release any more, or an input its schema now refuses): logged, and the tick
    /// counts as handled.
    func start(_ record: ScheduleRecord, tick: Date) async throws -> RunID? {
        let schedule = record.schedule
        let fields: Logger.Metadata = [
            "flow": "\(record.flow)", "schedule": "\(schedule.id)", "tick": "\(FlowSchedule.tickText(tick))",
        ]
        let version: FlowVersionRecord
        do {
            version = try await handler.flows.resolve(flow: record.flow)
        } catch let error as FlowStoreError {
            logger.error("scheduled run not started", metadata: fields.merging(["error": "\(error)"]) { $1 })
            Counter(label: "keel_schedule_ticks_total", dimensions: [("outcome", "refused")]).increment()
            return nil
        }
        let compiled = try handler.compiledFlows.compiled(version)
        let input = InputDefaults.apply(compiled.definition.input, to: schedule.input)
        if let problem = compiled.inputSchema?.validate(input).first {
            logger.error(
                "scheduled run not started: the input schema refuses the schedule's input",
                metadata: fields.merging(["error": "\(problem)"]) { $1 })
            Counter(label: "keel_schedule_ticks_total", dimensions: [("outcome", "refused")]).increment()
            return nil
        }
        let key = schedule.idempotencyKey(for: tick)
        let run = NewRun(
            id: TriggerHandler.newRunID(), flow: record.flow, version: version.version, input: input,
            idempotencyKey: key, correlationID: key, actor: "schedule:\(schedule.id)",
            requester: "schedule.\(schedule.id)@\(record.flow)", traceparent: TraceContext.start().traceparent
        )
        switch try await handler.runs.create(run, at: .now, advancer: handler.advancer, outbox: { _ in [] }) {
        case .created(let id):
            logger.info("scheduled run created", metadata: fields.merging(["run_id": "\(id)"]) { $1 })
            Counter(label: "keel_schedule_ticks_total", dimensions: [("outcome", "fired")]).increment()
            return id
        case .existing(let id, _):
            return id
        }
    }
}
