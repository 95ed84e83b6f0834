import KeelCore
import Logging
import SSHClient

/// Stops the detached job of an `ssh` attempt the engine stopped (``SSHReapRequest``): connects to the
/// host again and, through the attempt's pid file (``SSHJobFiles``), sends TERM to the job's process
/// group, then KILL after a grace period.
struct SSHReaper: Sendable {
    /// What became of a request.
    enum Result: Sendable, Hashable {
        /// The job is gone (or was never started); the request is done.
        case reaped(DetachedStop)
        /// Could not reach the host now; the request should come again.
        case retry(String)
        /// Can never work (unknown host, refused host key); the request is set aside.
        case refused(String)
    }

    let connector: SSHConnector
    let grace: Duration
    let logger: Logger

    init(connector: SSHConnector, grace: Duration = .seconds(5), logger: Logger) {
        self.connector = connector
        self.grace = grace
        self.logger = logger
    }

    func reap(_ request: SSHReapRequest) async -> Result {
        var logger = logger
        logger[metadataKey: "run_id"] = "\(request.runID)"
        logger[metadataKey: "step"] = "\(request.step)"
        logger[metadataKey: "attempt"] = "\(request.attempt)"
        logger[metadataKey: "ssh.host"] = "\(request.host)"
        let session: SSHSession
        do {
            session = try await connector.connect(to: request.host)
        } catch {
            return classify(error, logger: logger)
        }
        let files = SSHJobFiles(idempotencyKey: request.idempotencyKey)
        let result: Result
        do {
            let stop = try await session.stopDetached(pidFile: files.pidFile, grace: grace)
            logger.info(
                "ssh job reaped",
                metadata: ["ssh.stop": "\(stop.rawValue)", "reason": "\(request.reason)"])
            result = .reaped(stop)
        } catch {
            result = classify(SSHConnector.failure(error, host: request.host), logger: logger)
        }
        await session.close()
        return result
    }

    private func classify(_ failure: SSHConnector.Failure, logger: Logger) -> Result {
        switch failure.errorClass {
        case .permanent:
            logger.error("ssh job cannot be reaped", metadata: ["error": "\(failure.message)"])
            return .refused(failure.message)
        default:
            logger.warning("ssh job not reaped yet", metadata: ["error": "\(failure.message)"])
            return .retry(failure.message)
        }
    }
}
