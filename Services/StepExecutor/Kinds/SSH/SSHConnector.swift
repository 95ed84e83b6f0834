import KeelCore
import Logging
import SSHClient

/// Opens sessions to the hosts of `KEEL_SSH_HOSTS`, and says how a failure should count for the step.
struct SSHConnector: Sendable {
    let hosts: SSHHosts
    let secrets: SecretSource
    let connectTimeout: Duration
    let logger: Logger

    /// A failure to reach or log in to a host, classified for the step: a changed or unknown host key,
    /// a refused key or an unusable configuration is `permanent` (trying again cannot help and must not
    /// be tried blindly); network trouble is `transient`.
    struct Failure: Error, Sendable {
        var errorClass: ErrorClass
        var message: String
    }

    /// A logged-in session to the host named `name`, its host key verified before authentication.
    func connect(to name: String) async throws(Failure) -> SSHSession {
        let configuration: SSHConfiguration
        do {
            configuration = try hosts.host(named: name).configuration(
                secrets: secrets, connectTimeout: connectTimeout)
        } catch {
            throw Failure(errorClass: .permanent, message: error.description)
        }
        do {
            return try await SSHSession.connect(configuration, logger: logger)
        } catch {
            throw Self.failure(error, host: name)
        }
    }

    /// How an error of a session counts.
    static func failure(_ error: any Error, host: String) -> Failure {
        guard let error = error as? SSHError else {
            if error is CancellationError {
                return Failure(errorClass: .cancelled, message: "cancelled")
            }
            return Failure(errorClass: .transient, message: "host '\(host)': \(error)")
        }
        let errorClass: ErrorClass =
            switch error.code {
            case .hostKeyMismatch, .hostKeyUnknown, .authenticationFailed, .identityUnusable,
                .invalidArgument:
                .permanent
            default: .transient
            }
        var message = "host '\(host)' (\(error.host):\(error.port)): \(error.message)"
        if error.code == .hostKeyMismatch {
            message =
                "host '\(host)' (\(error.host):\(error.port)): the server's host key does not match the "
                + "configured one; refusing to connect (\(error.message))"
        }
        return Failure(errorClass: errorClass, message: message)
    }
}
