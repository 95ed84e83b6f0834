/// Where and as whom an ``SSHSession`` logs in, and how it decides that the server is the right one.
///
/// The description never shows key material or passphrases, so a configuration can be logged.
public struct SSHConfiguration: Sendable {
    /// Host name or address; it is also the name looked up in a known_hosts file.
    public var host: String
    public var port: Int
    public var user: String
    public var identity: SSHIdentity
    public var hostKey: SSHHostKeyPolicy
    /// Bounds the whole of ``SSHSession/connect(_:logger:)``: TCP connect, key exchange and authentication.
    public var connectTimeout: Duration

    public init(
        host: String, port: Int = 22, user: String, identity: SSHIdentity, hostKey: SSHHostKeyPolicy,
        connectTimeout: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.identity = identity
        self.hostKey = hostKey
        self.connectTimeout = connectTimeout
    }
}

extension SSHConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "SSHConfiguration(\(user)@\(host):\(port), identity: \(identity), hostKey: \(hostKey), "
            + "connectTimeout: \(connectTimeout))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": host, "port": port, "user": user, "identity": identity, "hostKey": hostKey,
                "connectTimeout": connectTimeout,
            ])
    }
}
