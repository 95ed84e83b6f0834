public import ClientSupport
import Foundation

/// Where and how to connect to a RabbitMQ broker, usually built from an `amqp://` URL.
public struct AMQPConfiguration: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Further brokers (nodes of the same cluster) to connect to when `host` cannot be reached; every
    /// connection and reconnection tries them in turn, starting with the one last connected to.
    public var fallbackHosts: [AMQPHost] = []
    public var user: String
    /// Sent only during login; never logged, never part of `description` or of an error.
    public var password: String
    public var vhost: String
    /// How often both sides prove they are alive; a peer silent for two intervals is considered dead.
    public var heartbeat: Duration
    /// Shown in the broker's management UI and logs, so operators can tell services apart.
    public var connectionName: String?
    /// The largest frame the client accepts; bodies larger than this are split into several frames.
    public var frameMax: Int
    /// Bounds the TCP connect and the AMQP handshake of every (re)connection attempt.
    public var connectTimeout: Duration
    /// How the connection comes back after it is lost.
    public var recovery: AMQPRecoveryPolicy
    /// TLS settings (`amqps://`); nil for plain TCP.
    public var tls: AMQPTLS?

    public init(
        host: String = "127.0.0.1", port: Int = 5672, user: String = "guest",
        password: String = "guest",
        vhost: String = "/", heartbeat: Duration = .seconds(10), connectionName: String? = nil,
        frameMax: Int = 131_072, connectTimeout: Duration = .seconds(10),
        recovery: AMQPRecoveryPolicy = AMQPRecoveryPolicy()
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.vhost = vhost
        self.heartbeat = heartbeat
        self.connectionName = connectionName
        self.frameMax = frameMax
        self.connectTimeout = connectTimeout
        self.recovery = recovery
    }

    /// Every broker, `host` first.
    public var servers: [AMQPHost] { [AMQPHost(host: host, port: port)] + fallbackHosts }

    /// Parses `amqp://user:pass@host:port/vhost?heartbeat=10&connection_name=x&frame_max=131072&connection_timeout=10000`;
    /// the nodes of a cluster are written `host1:port1,host2:port2`.
    ///
    /// `amqps://` (default port 5671) connects over TLS, verifying the broker's certificate and host name;
    /// the query items of RabbitMQ's URI spec set the files: `cacertfile`, `certfile`, `keyfile`, and
    /// `verify=verify_none` turns verification off (tests only).
    ///
    /// User, password and vhost are percent-decoded (`%2f` is the default vhost `/`); a missing path means
    /// the vhost `/`. `connection_timeout` is in milliseconds, `heartbeat` in seconds, as in RabbitMQ's URI spec.
    public init(url: String) throws {
        let (singleHostURL, others): (String, [AMQPHost])
        let secure = url.lowercased().hasPrefix("amqps://")
        let defaultPort = secure ? 5671 : 5672
        do {
            (singleHostURL, others) = try ServerAddress.splitList(in: url, defaultPort: defaultPort)
        } catch {
            throw AMQPError(.invalidConfiguration, reason: error.reason)
        }
        guard let components = URLComponents(string: singleHostURL),
            let scheme = components.scheme?.lowercased()
        else {
            throw AMQPError(.invalidConfiguration, reason: "not a URL: \(Self.redacted(url))")
        }
        guard scheme == "amqp" || scheme == "amqps" else {
            throw AMQPError(
                .invalidConfiguration, reason: "unsupported scheme '\(scheme)', expected amqp or amqps")
        }
        self.init()
        if secure { tls = AMQPTLS() }
        fallbackHosts = others
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = components.port ?? defaultPort
        user = components.user ?? "guest"
        password = components.password ?? "guest"
        let path = components.percentEncodedPath
        if path.isEmpty || path == "/" {
            vhost = "/"
        } else {
            let encoded = String(path.dropFirst())
            guard !encoded.contains("/"), let decoded = encoded.removingPercentEncoding else {
                throw AMQPError(.invalidConfiguration, reason: "invalid vhost in URL path '\(path)'")
            }
            vhost = decoded
        }
        for item in components.queryItems ?? [] {
            guard let value = item.value else { continue }
            switch item.name {
            case "heartbeat":
                heartbeat = .seconds(try Self.integer(value, item.name, in: 0...65535))
            case "connection_timeout":
                connectTimeout = .milliseconds(try Self.integer(value, item.name, in: 1...3_600_000))
            case "frame_max":
                frameMax = try Self.integer(value, item.name, in: 4096...Int(Int32.max))
            case "connection_name":
                connectionName = value
            case "cacertfile", "certfile", "keyfile", "verify":
                guard secure else {
                    throw AMQPError(
                        .invalidConfiguration, reason: "\(item.name) needs an amqps:// URL (TLS)")
                }
                switch item.name {
                case "cacertfile": tls?.caCertificatePath = value
                case "certfile": tls?.certificatePath = value
                case "keyfile": tls?.keyPath = value
                default:
                    guard value == "verify_peer" || value == "verify_none" else {
                        throw AMQPError(
                            .invalidConfiguration,
                            reason: "verify=\(value): expected verify_peer or verify_none")
                    }
                    tls?.verifyPeer = value == "verify_peer"
                    tls?.verifyHostname = value == "verify_peer"
                }
            default:
                continue
            }
        }
    }

    /// The URL without its password.
    public var description: String {
        let encodedVhost =
            vhost.addingPercentEncoding(
                withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~")))
            ?? vhost
        let hosts = servers.map { "\($0.host):\($0.port)" }.joined(separator: ",")
        return "\(tls == nil ? "amqp" : "amqps")://\(user)@\(hosts)/\(encodedVhost)"
    }

    private static func integer(_ text: String, _ name: String, in range: ClosedRange<Int>) throws
        -> Int
    {
        guard let value = Int(text), range.contains(value) else {
            throw AMQPError(
                .invalidConfiguration, reason: "\(name)=\(text) is not an integer in \(range)")
        }
        return value
    }

    /// Removes the password from a URL that may not even parse, for error messages.
    private static func redacted(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let schemeEnd = url.range(of: "://") else { return url }
        let credentials = url[schemeEnd.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}

/// Reconnection after the connection to the broker is lost.
///
/// Attempts are spaced by exponential backoff from `initialDelay`, doubling up to `maxDelay`, each with up
/// to 25% random jitter so a fleet of services does not reconnect in lockstep. Calls made while the
/// connection is down wait up to `outageWait` for it to come back, then fail with `.connectionClosed`.
public struct AMQPRecoveryPolicy: Sendable {
    public var isEnabled: Bool
    public var initialDelay: Duration
    public var maxDelay: Duration
    public var outageWait: Duration

    public init(
        isEnabled: Bool = true, initialDelay: Duration = .milliseconds(250),
        maxDelay: Duration = .seconds(10),
        outageWait: Duration = .seconds(60)
    ) {
        self.isEnabled = isEnabled
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.outageWait = outageWait
    }

    /// The delay before attempt `attempt` (0-based), jittered.
    func delay(attempt: Int) -> Duration {
        let base = initialDelay * (1 << min(attempt, 20))
        let capped = min(base, maxDelay)
        return capped * Double.random(in: 0.75...1.0)
    }
}

/// One broker of a cluster.
public typealias AMQPHost = ServerAddress
