import AMQPClient
import Foundation
import KeelBus
import KeelCore
import KeelStore
import Logging
import Tracing
import Metrics
import PGClient
import ServiceLifecycle
import Synchronization

/// Takes step dispatches, claims their attempts and runs them: the executor's side of DESIGN invariant 5.
///
/// A dispatch is acked once its attempt is claimed (the lease is in the database), never held for the
/// length of the step; the attempt then runs here under `AttemptLimit`, heartbeating its lease. Its result
/// is recorded only if the lease is still this executor's. On graceful shutdown the executor stops taking
/// dispatches, stops the running attempts and hands them back to be dispatched again at once.
final class StepRunner: Service, Sendable {
    let attempts: AttemptStore
    let kinds: StepKinds
    let limit: AttemptLimit
    let executorID: String
    let heartbeatInterval: Duration
    /// How long an `ssh.reap` that could not reach its host waits before it goes back to its queue.
    let reapRetryPause: Duration
    let logger: Logger
    /// Fault injection for the end-to-end tests (`KEEL_FAULT_EXIT_AFTER_CLAIM=N`): the process exits right
    /// after committing its N-th claim (a dispatch's, before acking it, or one continued in place, before
    /// running it), as a crash there would.
    let exitAfterClaim: Int?
    /// The pool this executor serves (`StepRoute.pool`): a run's next attempt for it is run here, claimed
    /// with the result of the attempt before it (`AttemptStore.complete(_:with:continuingIn:)`).
    let pool: String
    /// Most attempts run in place one after another in one chain before the next goes through the
    /// broker, behind the other runs' dispatches; 0 turns continuing in place off.
    let inPlaceLimit: Int
    private let claims = Atomic<Int>(0)
    private let claimed: AsyncStream<ClaimedAttempt>
    private let claimedSink: AsyncStream<ClaimedAttempt>.Continuation

    private let inFlight = Gauge(label: "keel_steps_in_flight")
    private let finished = Counter(label: "keel_step_attempts_total", dimensions: [("outcome", "recorded")])
    private let refused = Counter(label: "keel_step_attempts_total", dimensions: [("outcome", "refused")])
    private let handedBack = Counter(
        label: "keel_step_attempts_total", dimensions: [("outcome", "handed_back")])

    init(
        attempts: AttemptStore, kinds: StepKinds, maxInFlight: Int, executorID: String, pool: String,
        inPlaceLimit: Int = 32, logger: Logger, exitAfterClaim: Int? = nil,
        reapRetryPause: Duration = .seconds(5)
    ) {
        self.exitAfterClaim = exitAfterClaim
        self.pool = pool
        self.inPlaceLimit = max(0, inPlaceLimit)
        self.reapRetryPause = reapRetryPause
        self.attempts = attempts
        self.kinds = kinds
        self.limit = AttemptLimit(maxInFlight)
        self.executorID = executorID
        self.heartbeatInterval = attempts.leaseDuration / 3
        self.logger = logger
        (claimed, claimedSink) = AsyncStream.makeStream(of: ClaimedAttempt.self)
    }

    /// The consumer's handler: claims the attempt, queues it to run here, and lets the dispatch be acked.
    func handle(_ delivery: AMQPDelivery) async throws -> DeliveryDisposition {
        if delivery.properties.headers["keel-type"]?.stringValue == SSHReapRequest.messageType {
            return try await reap(delivery)
        }
        guard let body = try? JSONValue(parsing: delivery.body), let dispatch = StepDispatch(json: body)
        else {
            return .deadLetter(
                reason:
                    "not a step dispatch: expected run_id, flow, version, step, attempt, idempotency_key, correlation_id"
            )
        }
        guard
            [dispatch.flow, dispatch.step, dispatch.idempotencyKey, dispatch.correlationID]
                .allSatisfy(\.isStorable)
        else {
            return .deadLetter(
                reason: "a step dispatch whose fields hold the character U+0000, which cannot be stored")
        }
        try await limit.acquire()
        var attempt: ClaimedAttempt?
        let claimSent = ContinuousClock.now
        do {
            attempt = try await attempts.claim(dispatch, executor: executorID)
            attempt?.leaseFrom = claimSent
        } catch {
            limit.release()
            throw error
        }
        guard let attempt else {
            limit.release()
            logger.debug(
                "dispatch of an attempt that is not waiting to start; dropped",
                metadata: metadata(dispatch))
            return .ack
        }
        injectClaimFault(attempt)
        inFlight.record(1)
        claimedSink.yield(attempt)
        return .ack
    }

    /// `KEEL_FAULT_EXIT_AFTER_CLAIM`: exits once the N-th claim has committed.
    private func injectClaimFault(_ attempt: ClaimedAttempt) {
        if let exitAfterClaim, claims.add(1, ordering: .relaxed).newValue == exitAfterClaim {
            logger.critical(
                "fault injection: exiting after a committed claim, before acting on it",
                metadata: metadata(attempt))
            exit(70)
        }
    }

    /// Stops the job of a stopped `ssh` attempt (see `SSHReaper`); a host that cannot be reached now
    /// returns the message to its queue after a pause (`reapRetryPause`), so it is delivered again and
    /// the queue's delivery limit, then its dead-letter queue, bound the tries.
    private func reap(_ delivery: AMQPDelivery) async throws -> DeliveryDisposition {
        guard let body = try? JSONValue(parsing: delivery.body), let request = SSHReapRequest(json: body)
        else {
            return .deadLetter(
                reason: "not an ssh reap request: expected run_id, step, attempt, idempotency_key, host")
        }
        switch await kinds.sshReaper.reap(request) {
        case .reaped: return .ack
        case .refused(let reason): return .deadLetter(reason: "ssh job cannot be reaped: \(reason)")
        case .retry(let reason), .notHere(let reason):
            // A pause before the delivery goes back, so the queue's delivery limit spans a host's restart
            // (or reaches an executor of the pool that has the host).
            try? await Task.sleep(for: reapRetryPause)
            return .requeue(reason: "ssh job not reaped yet: \(reason)")
        }
    }

    /// Runs claimed attempts until graceful shutdown, then hands back the ones still running.
    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for await attempt in self.claimed {
                    group.addTask { await self.execute(attempt) }
                }
            }
        }
        claimedSink.finish()
        for await attempt in claimed {
            await handBack(attempt)
        }
    }

    /// Runs a claimed attempt and then, while the run's next attempt was claimed in place with its
    /// result, that one, up to `inPlaceLimit` in a row; the chain keeps the attempt's slot of `limit`.
    private func execute(_ first: ClaimedAttempt) async {
        defer {
            inFlight.record(-1)
            limit.release()
        }
        var next: ClaimedAttempt? = first
        var chained = 0
        while let attempt = next {
            if chained > 0 {
                injectClaimFault(attempt)
                // Shutdown between two steps of a chain: the claimed one goes back at once.
                guard !Task.isCancelled else { return await handBack(attempt) }
            }
            chained += 1
            next = await execute(attempt, continuing: chained <= inPlaceLimit)
        }
    }

    /// Runs one attempt and records its result; returns the run's next attempt when it was claimed in
    /// place (`continuing`).
    private func execute(_ attempt: ClaimedAttempt, continuing: Bool) async -> ClaimedAttempt? {
        // A span per attempt in the run's trace; the work gets it as its `traceparent`.
        let dispatch = attempt.dispatch
        return await withSpan(
            "attempt \(dispatch.step)",
            context: TraceSpans.context(traceparent: attempt.state.trigger?.traceparent)
        ) { span in
            span.attributes["keel.run_id"] = dispatch.runID.description
            span.attributes["keel.step"] = dispatch.step
            span.attributes["keel.attempt"] = dispatch.attempt
            return await executeInSpan(
                attempt, continuing: continuing, traceparent: TraceSpans.traceparent(of: span.context))
        }
    }

    private func executeInSpan(_ attempt: ClaimedAttempt, continuing: Bool, traceparent: String?) async
        -> ClaimedAttempt?
    {
        let continuingIn = continuing ? pool : nil
        let dispatch = attempt.dispatch
        guard var definition = attempt.state.flow.definition(ofStepOrElement: dispatch.step) else {
            return await record(
                attempt, .failed(.permanent, message: "the flow version has no step '\(dispatch.step)'"),
                continuingIn: continuingIn)
        }
        // An element of a mapped step runs as a step named by its element id (`apply[3]`), so its
        // resources, environment and logs are its own.
        definition.id = dispatch.step
        guard let executor = kinds.executor(for: definition) else {
            return await record(
                attempt, .failed(.permanent, message: "step-executor does not run this kind of step"),
                continuingIn: continuingIn)
        }
        let work = StepWork(
            runID: dispatch.runID, flow: dispatch.flow, version: dispatch.version, step: definition,
            attempt: dispatch.attempt, idempotencyKey: dispatch.idempotencyKey,
            correlationID: dispatch.correlationID,
            context: attempt.state.expressionContext(attempt: dispatch.attempt, step: dispatch.step),
            changeRequest: attempt.state.changeRequest(for: dispatch.step),
            traceparent: traceparent
                ?? attempt.state.trigger.flatMap { $0.traceparent }.flatMap(TraceContext.init(traceparent:))?
                .child().traceparent)
        logger.debug("attempt started", metadata: metadata(attempt))

        let began = ContinuousClock.now
        let ending = await withTaskGroup(of: Ending?.self) { group in
            group.addTask { .finished(await executor.execute(work)) }
            // The watchdog is apart from the heartbeats: a heartbeat stuck on a silent network must not
            // keep the attempt's work going past its lease.
            let expiry = LeaseExpiry(attempt.leaseFrom + self.attempts.leaseDuration)
            group.addTask { await self.keepLease(attempt, expiry: expiry) }
            group.addTask { await self.watchLease(attempt, expiry: expiry) }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if Task.isCancelled {
            await handBack(attempt)
            return nil
        }
        var usage = AttemptUsage.machineTime(ContinuousClock.now - began, of: definition)
        switch ending {
        case .finished(let outcome):
            switch outcome {
            case .succeeded(let written):
                let outputs: JSONObject
                do {
                    let split = try AttemptUsage.split(written, of: definition, context: work.context)
                    outputs = split.outputs
                    usage += split.usage
                } catch {
                    return await record(
                        attempt, .failed(.permanent, message: "\(error)"), continuingIn: continuingIn,
                        usage: usage)
                }
                // A step's own output that PostgreSQL cannot store fails the attempt, said plainly,
                // instead of a result that could never be recorded.
                if let problem = JSONValue.object(outputs).firstUnstorableValue(
                    under: JSONPointer(tokens: ["outputs"]))
                {
                    return await record(
                        attempt,
                        .failed(.permanent, message: "the step's output cannot be stored: \(problem)"),
                        continuingIn: continuingIn, usage: usage)
                } else {
                    return await record(
                        attempt, .succeeded(outputs: outputs), continuingIn: continuingIn, usage: usage)
                }
            case .failed(let errorClass, let message):
                return await record(
                    attempt, .failed(errorClass, message: message.storable), continuingIn: continuingIn,
                    usage: usage)
            case .interrupted(let reason):
                logger.warning(
                    "attempt interrupted by the executor; handing it back",
                    metadata: metadata(attempt, ["reason": "\(reason)"]))
                // A pause (within the lease) so a lasting failure does not become a hot loop of re-runs.
                try? await Task.sleep(for: min(heartbeatInterval, .seconds(5)))
                await handBack(attempt)
                return nil
            }
        case .leaseLost, nil:
            refused.increment()
            logger.warning(
                "lease lost (the attempt was stopped or taken over); its work was stopped",
                metadata: metadata(attempt))
            return nil
        }
    }

    private enum Ending: Sendable {
        case finished(StepOutcome)
        case leaseLost
    }

    /// Heartbeats until the lease is lost (then returns) or the task is cancelled (then returns nil). A
    /// database error is retried at the next beat: the lease outlives two missed beats. Each renewal moves
    /// `expiry` to the lease's new end as this executor's clock bounds it.
    private func keepLease(_ attempt: ClaimedAttempt, expiry: LeaseExpiry) async -> Ending? {
        let lease = attempts.leaseDuration
        while true {
            do {
                try await Task.sleep(for: heartbeatInterval)
            } catch {
                return nil
            }
            let sent = ContinuousClock.now
            do {
                if try await !attempts.heartbeat(attempt) { return .leaseLost }
                expiry.extend(to: sent + lease)
            } catch {
                if Task.isCancelled { return nil }
                logger.warning(
                    "heartbeat failed; trying again",
                    metadata: metadata(attempt, ["error": "\(error)"]))
            }
        }
    }

    /// Returns `.leaseLost` once the lease has passed without a renewal (the database is unreachable):
    /// the attempt's local work then stops, so it never runs beside the copy dispatched after its expiry.
    private func watchLease(_ attempt: ClaimedAttempt, expiry: LeaseExpiry) async -> Ending? {
        while true {
            let deadline = expiry.instant
            do {
                try await Task.sleep(until: deadline)
            } catch {
                return nil
            }
            if ContinuousClock.now >= expiry.instant {
                logger.error(
                    "lease passed without a renewal (database unreachable); stopping the attempt's work",
                    metadata: metadata(attempt))
                return .leaseLost
            }
        }
    }

    /// Records the result, retrying while the database is unreachable (the lease bounds how long that
    /// can help: after it expires the result is refused and the attempt runs again elsewhere). Returns
    /// the run's next attempt when it was claimed in place (for `continuingIn`, a pool).
    private func record(
        _ attempt: ClaimedAttempt, _ result: AttemptResult, continuingIn pool: String?, usage: Usage = .zero
    ) async -> ClaimedAttempt? {
        var delay = Duration.milliseconds(100)
        while true {
            do {
                let claimSent = ContinuousClock.now
                let (completion, next) = try await attempts.complete(
                    attempt, with: result, continuingIn: pool, usage: usage)
                switch completion {
                case .recorded:
                    finished.increment()
                    logger.debug("attempt recorded", metadata: metadata(attempt))
                case .refused:
                    refused.increment()
                    logger.warning(
                        "result refused: the lease was lost (the attempt was stopped or taken over)",
                        metadata: metadata(attempt))
                }
                guard var next else { return nil }
                next.leaseFrom = claimSent
                logger.debug("next attempt claimed in place", metadata: metadata(next))
                return next
            } catch let error as PGError where error.isPermanent {
                // Retrying what PostgreSQL refuses cannot help: the attempt fails with the reason instead.
                logger.error(
                    "result refused by the database; recording the attempt as failed",
                    metadata: metadata(attempt, ["error": "\(error.dataFreeDescription)"]))
                if case .failed(.permanent, _) = result { return nil }
                return await record(
                    attempt,
                    .failed(
                        .permanent,
                        message: "the step's result cannot be stored: \(error.dataFreeDescription)"),
                    continuingIn: pool, usage: usage)
            } catch {
                logger.warning(
                    "result not recorded yet; retrying",
                    metadata: metadata(attempt, ["error": "\(error)", "retry_in": "\(delay)"]))
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    return nil
                }
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// Runs outside the (cancelled) task that ran the attempt: shutdown cancels that task, and the hand-back
    /// must still reach the database.
    private func handBack(_ attempt: ClaimedAttempt) async {
        let attempts = attempts
        do {
            try await Task { try await attempts.handBack(attempt) }.value
            handedBack.increment()
            logger.info("attempt handed back", metadata: metadata(attempt))
        } catch {
            logger.warning(
                "could not hand the attempt back; it is dispatched again when its lease expires",
                metadata: metadata(attempt, ["error": "\(error)"]))
        }
    }

    /// The attempt's log fields (`RunLogContext`), with the run's `trace_id` (every line about a
    /// run can be found by its trace).
    private func metadata(_ attempt: ClaimedAttempt, _ extra: Logger.Metadata = [:]) -> Logger.Metadata {
        RunLogContext(attempt).metadata(adding: extra)
    }

    /// A dispatch not claimed here carries no trace: its line has every field but `trace_id`.
    private func metadata(_ dispatch: StepDispatch, _ extra: Logger.Metadata = [:]) -> Logger.Metadata {
        RunLogContext(dispatch).metadata(adding: extra)
    }
}
