import Foundation
import KeelCore
import KeelStore
import Logging
import SSHClient

/// `ssh` with `wait`: starts the step's command detached on a host of `KEEL_SSH_HOSTS` and returns at
/// once; the step then waits for the job's callback (the reducer opens the wait when this attempt
/// succeeds).
///
/// The job's environment is the step's `env` plus `KEEL_CALLBACK_URL`, `KEEL_CALLBACK_TOKEN` (minted
/// here for the wait `<run>:<step>:<attempt>:wait`, valid for the wait's timeout plus a margin),
/// `KEEL_IDEMPOTENCY_KEY`, `KEEL_RUN_ID`, `KEEL_STEP`, `KEEL_ATTEMPT` and `KEEL_CORRELATION_ID`. It is
/// started at most once per attempt (`SSHJobFiles`: a repeated delivery finds the pid file and starts
/// nothing). Outputs: `host`, `pid` and `log` (the job's output file on the host). The token never
/// reaches outputs, messages or logs.
///
/// `ssh` without `wait` (a command run to its end) is not supported yet and fails as `permanent`.
struct SSHStepExecutor: StepKindExecutor {
    let connector: SSHConnector
    /// nil when the executor has no callback settings: `ssh` steps with `wait` then fail as `permanent`.
    let callbacks: CallbackSettings?
    let secrets: SecretSource
    let logger: Logger
    let now: @Sendable () -> Date

    init(
        connector: SSHConnector, callbacks: CallbackSettings?, secrets: SecretSource, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.connector = connector
        self.callbacks = callbacks
        self.secrets = secrets
        self.logger = logger
        self.now = now
    }

    func execute(_ work: StepWork) async -> StepOutcome {
        guard case .ssh(let action) = work.step.kind else {
            return .failed(.permanent, message: "step '\(work.step.id)' is not an ssh step")
        }
        guard let wait = action.wait else {
            return .failed(
                .permanent,
                message: "ssh steps without wait are not supported yet: add wait (the job calls back)")
        }
        var renderer = StepActionRenderer(context: work.context, secrets: secrets)
        let rendered: RenderedSSHAction
        do {
            rendered = try RenderedSSHAction(action, renderer: &renderer)
        } catch {
            return .failed(.permanent, message: renderer.redactor.redacting(error.description))
        }
        guard let callbacks else {
            return .failed(
                .permanent,
                message: "this executor has no callback settings (KEEL_CALLBACK_KEYS, "
                    + "KEEL_CALLBACK_GATEWAY_URL), so it cannot start a job that calls back")
        }
        let token = callbacks.token(for: work, wait: wait, now: now())
        let redactor = SecretRedactor(secrets: renderer.maskedSecrets + [token])
        var logger = logger.forRun(work.logContext)
        logger[metadataKey: "ssh.host"] = "\(rendered.host)"

        let outcome = await start(
            rendered, work: work,
            environment: Self.environment(of: rendered, work: work, callbacks: callbacks, token: token),
            logger: logger)
        switch outcome {
        case .succeeded:
            return outcome
        case .failed(let errorClass, let message):
            logger.debug("ssh step failed", metadata: ["error_class": "\(errorClass.rawValue)"])
            return .failed(errorClass, message: redactor.redacting(message))
        case .interrupted(let reason):
            return .interrupted(reason: redactor.redacting(reason))
        }
    }

    /// The job's whole environment: the step's `env`, then the attempt's `KEEL_*` (which win).
    static func environment(
        of action: RenderedSSHAction, work: StepWork, callbacks: CallbackSettings, token: String
    ) -> [String: String] {
        var environment = action.environment
        environment.merge(callbacks.variables(token: token)) { _, callback in callback }
        environment["KEEL_IDEMPOTENCY_KEY"] = work.idempotencyKey
        environment["KEEL_RUN_ID"] = work.runID.description
        environment["KEEL_STEP"] = work.step.id
        environment["KEEL_ATTEMPT"] = String(work.attempt)
        environment["KEEL_CORRELATION_ID"] = work.correlationID
        if let traceparent = work.traceparent { environment["TRACEPARENT"] = traceparent }
        return environment
    }

    /// Connects, starts the job once, and stops it again when the attempt was cancelled meanwhile (the
    /// engine no longer expects it, and no reaper will learn of its pid) or when the start failed after
    /// the command was sent (the attempt fails, so no reaper would learn of it either).
    private func start(
        _ action: RenderedSSHAction, work: StepWork, environment: [String: String], logger: Logger
    ) async -> StepOutcome {
        let session: SSHSession
        do {
            session = try await connector.connect(to: action.host)
        } catch {
            return .failed(error.errorClass, message: error.message)
        }
        let files = SSHJobFiles(idempotencyKey: work.idempotencyKey)
        let outcome: StepOutcome
        do {
            let started = try await session.startDetachedOnce(
                "exec " + ShellWords.join(action.arguments), environment: environment,
                pidFile: files.pidFile, logFile: files.logFile)
            if Task.isCancelled {
                let stop = try? await Task {
                    try await session.stopDetached(pidFile: files.pidFile, marker: files.marker)
                }.value
                logger.info(
                    "attempt cancelled while starting the job; stopped it",
                    metadata: ["ssh.pid": "\(started.pid)", "ssh.stop": "\(stop?.rawValue ?? "failed")"])
                outcome = .failed(.cancelled, message: "cancelled while starting the job")
            } else {
                logger.info(
                    started.alreadyStarted
                        ? (started.running
                            ? "job already running for this attempt" : "job of this attempt already ended")
                        : "job started",
                    metadata: ["ssh.pid": "\(started.pid)"])
                outcome = .succeeded(outputs: [
                    "host": .string(action.host), "pid": .number(JSONNumber(Int(started.pid))),
                    "log": .string(files.logFile),
                ])
            }
        } catch {
            let failure = SSHConnector.failure(error, host: action.host)
            await session.close()
            if Self.mayHaveRun(error) {
                await stopAfterFailedStart(host: action.host, files: files, logger: logger)
            }
            return .failed(failure.errorClass, message: failure.message)
        }
        await session.close()
        return outcome
    }

    /// Whether the start command may have reached the host before `error`: everything but a refused
    /// argument (checked before anything is sent).
    static func mayHaveRun(_ error: any Error) -> Bool {
        (error as? SSHError)?.code != .invalidArgument
    }

    /// Best effort, over a fresh session and outside the attempt's (possibly cancelled) task: stops
    /// whatever this attempt's pid file names. The pid file belongs to this attempt alone, and the
    /// attempt is about to fail, so a job running under it would be orphaned: nobody reaps an attempt
    /// whose outputs never named its host.
    func stopAfterFailedStart(host: String, files: SSHJobFiles, logger: Logger) async {
        let connector = connector
        let stop: Result<DetachedStop, any Error> = await Task {
            do {
                let session = try await connector.connect(to: host)
                do {
                    let stop = try await session.stopDetached(pidFile: files.pidFile, marker: files.marker)
                    await session.close()
                    return .success(stop)
                } catch {
                    await session.close()
                    return .failure(error)
                }
            } catch {
                return .failure(error)
            }
        }.value
        switch stop {
        case .success(let stop):
            logger.warning(
                "the job's start failed after it was sent; stopped what it may have started",
                metadata: ["ssh.stop": "\(stop.rawValue)"])
        case .failure(let error):
            logger.error(
                "the job's start failed after it was sent; what it may have started could not be stopped",
                metadata: [
                    "error":
                        "\((error as? SSHConnector.Failure)?.message ?? SSHConnector.failure(error, host: host).message)",
                    "ssh.pid_file": "\(files.pidFile)",
                ])
        }
    }
}
