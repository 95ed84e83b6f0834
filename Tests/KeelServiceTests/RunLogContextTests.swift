import KeelCore
import KeelStore
import KeelService
import Logging
import Synchronization
import Testing

/// A run's identity on log lines: one type, the same fields wherever a line is written.
@Suite struct RunLogContextTests {
    static let run = RunID("0193a0c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b")!
    static let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func aFullContextGivesEveryField() {
        let context = RunLogContext(
            runID: Self.run, correlationID: "corr-1", flow: "deploy", release: 3, step: "build", attempt: 2,
            traceID: "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(
            context.metadata == [
                "run_id": .string(Self.run.description), "correlation_id": "corr-1", "flow": "deploy",
                "release": "3",
                "step": "build", "attempt": "2", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
            ])
        #expect(Set(context.metadata.keys) == Set(RunLogContext.fieldNames))
    }

    @Test func unknownFieldsAreLeftOffNotGuessed() {
        let context = RunLogContext(runID: Self.run)
        #expect(context.metadata == ["run_id": .string(Self.run.description)])
    }

    @Test func aLinesOwnFieldsCannotRenameTheRun() {
        let context = RunLogContext(runID: Self.run, flow: "deploy")
        let fields = context.metadata(adding: ["run_id": "someone-else", "error": "boom"])
        #expect(fields["run_id"] == .string(Self.run.description))
        #expect(fields["error"] == "boom")
        #expect(fields["flow"] == "deploy")
    }

    @Test func anAttemptOfTheRun() {
        let run = RunLogContext(runID: Self.run, correlationID: "c", flow: "f", release: 1)
        let attempt = run.attempt(3, of: "deploy")
        #expect(attempt.step == "deploy" && attempt.attempt == 3)
        #expect(attempt.correlationID == "c" && attempt.flow == "f" && attempt.release == 1)
    }

    @Test func fillingCompletesOnlyTheSameRun() {
        let claims = RunLogContext(runID: Self.run, step: "job", attempt: 1)
        let row = RunLogContext(
            runID: Self.run, correlationID: "c", flow: "f", release: 2, step: "other", traceID: "t")
        let filled = claims.filling(from: row)
        #expect(
            filled
                == RunLogContext(
                    runID: Self.run, correlationID: "c", flow: "f", release: 2, step: "job", attempt: 1,
                    traceID: "t"))
        #expect(
            claims.filling(
                from: RunLogContext(runID: RunID("0193a0c4-0000-7000-8000-000000000002")!, flow: "x"))
                == claims)
    }

    @Test func fromADispatchAndATrigger() {
        let dispatch = StepDispatch(
            runID: Self.run, flow: "deploy", version: 4, step: "build", attempt: 2,
            idempotencyKey: "\(Self.run):build:2", correlationID: "corr-9")
        #expect(
            RunLogContext(dispatch)
                == RunLogContext(
                    runID: Self.run, correlationID: "corr-9", flow: "deploy", release: 4, step: "build",
                    attempt: 2))
        let trigger = RunTrigger(
            runID: Self.run, flow: "deploy", version: 4, input: .object([:]), correlationID: "corr-9",
            idempotencyKey: "k", traceparent: Self.traceparent)
        #expect(
            RunLogContext(trigger)
                == RunLogContext(
                    runID: Self.run, correlationID: "corr-9", flow: "deploy", release: 4,
                    traceID: "4bf92f3577b34da6a3ce929d0e0e4736"))
        #expect(RunLogContext.traceID(of: "not a traceparent") == nil)
    }

    @Test func fromCallbackClaimsAndAReapRequest() {
        let claims = CallbackClaims(
            run: Self.run, step: "job", attempt: 2,
            wait: AttemptID(run: Self.run, step: "job", attempt: 2).waitID,
            expires: 0)
        #expect(RunLogContext(claims) == RunLogContext(runID: Self.run, step: "job", attempt: 2))
        let request = SSHReapRequest(
            runID: Self.run, step: "bench", attempt: 1, idempotencyKey: "k", host: "gpu-1", pid: 7,
            reason: "cancelled", flow: "gpu", version: 2, correlationID: "c")
        #expect(
            RunLogContext(request)
                == RunLogContext(
                    runID: Self.run, correlationID: "c", flow: "gpu", release: 2, step: "bench", attempt: 1))
        #expect(SSHReapRequest(json: request.json) == request)
    }

    @Test func aFiredTimerNamesTheStepAndAttemptItWasArmedFor() {
        let run = RunLogContext(runID: Self.run, correlationID: "c", flow: "f", release: 1)
        let retry = FiredTimer(
            id: "\(Self.run):build:2:retry", purpose: .retry(step: "build", attempt: 2), run: run)
        #expect(retry.kind == "retry")
        #expect(retry.logContext == run.attempt(2, of: "build"))
        let timeout = FiredTimer(id: "\(Self.run):run-timeout:0", purpose: .runTimeout, run: run)
        #expect(timeout.kind == "run-timeout")
        #expect(timeout.logContext == run)
        let approval = FiredTimer(
            id: "\(Self.run):review:1:approval-timeout",
            purpose: .approvalTimeout(step: "review", attempt: 1),
            run: run)
        #expect(approval.kind == "approval-timeout")
        #expect(approval.logContext?.step == "review")
    }

    @Test func aLoggerForARunPutsTheFieldsOnEveryLine() {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "test") { label in
            KeelLogHandler(
                label: label, service: "step-executor", format: .logfmt, level: .debug,
                sink: { line in lines.withLock { $0.append(line) } })
        }
        logger = logger.forRun(RunLogContext(runID: Self.run, flow: "deploy", step: "build", attempt: 1))
        logger.info("attempt started")
        logger.info("attempt recorded")
        let output = lines.withLock { $0 }
        #expect(output.count == 2)
        for line in output {
            #expect(line.contains("run_id=\(Self.run)"), "\(line)")
            #expect(line.contains("attempt=1"), "\(line)")
            #expect(line.contains("step=build") && line.contains("flow=deploy"), "\(line)")
        }
    }
}
