import KeelCore
import KeelStore
import Logging
import SSHClient

/// Stops the detached job of an `ssh` attempt the engine stopped (`SSHReapRequest`): connects to the
/// host again and, through the attempt's pid file (`SSHJobFiles`), sends TERM to the job's process
/// group, then KILL after a grace period. The group is signalled only if one of its processes carries
/// the attempt's `KEEL_IDEMPOTENCY_KEY` in its environment: a pid reused since is someone else's.
struct SSHReaper: Sendable {
    /// What became of a request.
    enum Result: Sendable, Hashable {
        /// The job is gone (or was never started); the request is done.
        case reaped(DetachedStop)
        /// Could not reach the host now; the request should come again.
        case retry(String)
        /// This executor does not have the host in its `KEEL_SSH_HOSTS`; another of the pool may.
        case notHere(String)
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
        var logger = logger.forRun(RunLogContext(request))
        logger[metadataKey: "ssh.host"] = "\(request.host)"
        guard connector.hosts.names.contains(request.host) else {
            let message = "host '\(request.host)' is not in this executor's KEEL_SSH_HOSTS"
            logger.warning("ssh job not reaped here", metadata: ["error": "\(message)"])
            return .notHere(message)
        }
        let session: SSHSession
        do {
            session = try await connector.connect(to: request.host)
        } catch {
            return classify(error, logger: logger)
        }
        let files = SSHJobFiles(idempotencyKey: request.idempotencyKey)
        let result: Result
        do {
            let stop = try await session.stopDetached(
                pidFile: files.pidFile, grace: grace, marker: files.marker)
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
