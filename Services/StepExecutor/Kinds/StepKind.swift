import Foundation
import KeelCore
import KeelStore
import Logging

/// Everything an attempt needs to run, loaded by the engine when it claimed the attempt.
struct StepWork: Sendable {
    var runID: RunID
    var flow: String
    var version: Int
    var step: StepDefinition
    var attempt: Int
    var idempotencyKey: String
    var correlationID: String
    /// input, steps (outputs/status/decision), run fields — as the reducer sees them; no secrets.
    var context: ExpressionContext
    /// The approver's note when `request_changes` sent the run back to this step; the `run` kind hands it
    /// to the process as `KEEL_CHANGE_REQUEST`.
    var changeRequest: ChangeRequest? = nil
    /// The W3C `traceparent` of this attempt: the run's trace, a span of its own. Processes get it as
    /// `TRACEPARENT` (and `keel callback` sends it back), so a remote job's callback joins the run's trace.
    var traceparent: String? = nil
}

/// How an attempt ended, as the engine records it (`step.succeeded` / `step.failed`).
enum StepOutcome: Sendable, Hashable {
    case succeeded(outputs: JSONObject)
    case failed(ErrorClass, message: String)
    /// The executor could not finish the attempt for a reason of its own, not the step's (its resource
    /// store was unreachable): nothing is recorded, the attempt is handed back and runs again, as after a
    /// crash. The step's work may have run; its idempotency key lets it tell.
    case interrupted(reason: String)
}

/// Performs one attempt of one kind of step. Must return (not throw) for every failure of the work itself;
/// when the calling Task is cancelled (the lease was lost, the run was cancelled, the executor is shutting down)
/// it stops the work promptly and returns `.failed(.cancelled, ...)`.
protocol StepKindExecutor: Sendable {
    func execute(_ work: StepWork) async -> StepOutcome
}

/// Picks the executor for a step's kind (noop, run, http, ssh, agent); nil for kinds step-executor does not run.
struct StepKinds: Sendable {
    let noop: NoopStepExecutor
    let run: RunStepExecutor
    let http: HTTPStepExecutor
    let ssh: SSHStepExecutor
    let agent: AgentStepExecutor
    /// Stops the jobs of `ssh` attempts the engine stopped.
    let sshReaper: SSHReaper

    /// - Parameters:
    ///   - resources: where `run` steps' output streams and outputs over the inline limit are stored.
    ///   - secrets: the values of `${{ secrets.NAME }}`.
    ///   - limits: the inline rule for outputs.
    ///   - temporaryDirectory: where each `run` attempt gets a directory of its own for `KEEL_OUTPUT`.
    ///   - runDefaults: the `PATH` and working directory of `run` steps that do not set them.
    ///   - sshHosts: the hosts `ssh` steps may name (`KEEL_SSH_HOSTS`).
    ///   - callbacks: token keys and gateway URL for work that calls back; nil refuses `run` and `ssh` with
    ///     `wait`.
    ///   - stepUsers: the uids `run` attempts run as; nil runs them as the executor's user.
    init(
        resources: ResourceStore, secrets: SecretSource, logger: Logger, limits: ResourceLimits = .default,
        temporaryDirectory: String = FileManager.default.temporaryDirectory.path,
        runDefaults: RunDefaults = RunDefaults(), sshHosts: SSHHosts = SSHHosts(),
        callbacks: CallbackSettings? = nil, sshConnectTimeout: Duration = .seconds(15),
        stepUsers: StepUserPool? = nil
    ) {
        noop = NoopStepExecutor()
        run = RunStepExecutor(
            resources: resources, secrets: secrets, limits: limits, temporaryDirectory: temporaryDirectory,
            defaults: runDefaults, logger: logger, callbacks: callbacks, users: stepUsers)
        agent = AgentStepExecutor(run: run, secrets: secrets, logger: logger)
        http = HTTPStepExecutor(resources: resources, secrets: secrets, limits: limits, logger: logger)
        let connector = SSHConnector(
            hosts: sshHosts, secrets: secrets, connectTimeout: sshConnectTimeout, logger: logger)
        ssh = SSHStepExecutor(connector: connector, callbacks: callbacks, secrets: secrets, logger: logger)
        sshReaper = SSHReaper(connector: connector, logger: logger)
    }

    func executor(for step: StepDefinition) -> (any StepKindExecutor)? {
        switch step.kind {
        case .noop: noop
        case .run: run
        case .http: http
        case .ssh: ssh
        case .agent: agent
        // Decided by the engine itself: a decision, a callback, a child run.
        case .approval, .wait, .subflow: nil
        }
    }
}
