public import ClientSupport
import Foundation

/// Where and how to connect, usually parsed from a `postgres://` URL given in the environment.
///
/// `description`, `debugDescription` and the mirror (`dump`) leave the password and the libpq
/// `options` (which may hold `sslpassword`) out, so a configuration can be logged.
public struct PGConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Further servers to try, in order, when `host` cannot be reached or is not what
    /// `target_session_attrs` asks for (libpq's multi-host connection, e.g. a primary and its standbys).
    public var fallbackHosts: [PGHost] = []
    public var user: String
    public var password: String?
    public var database: String
    /// Shown in `pg_stat_activity.application_name`; lets operators tell services apart.
    public var applicationName: String?
    /// How long a connection attempt may take before it fails with `.timeout`.
    public var connectTimeout: Duration
    /// The server's `statement_timeout` for the session (nil: none). The client also stops waiting for
    /// a reply after this plus `replyGrace`, so a statement on a silent network cannot hang.
    public var statementTimeout: Duration?
    /// The server's `lock_timeout` for the session (nil: none): how long a statement waits for a lock.
    public var lockTimeout: Duration?
    /// How long the client waits beyond `statementTimeout` before it gives a silent server up, closes the
    /// connection and fails the statement with `.timeout`. The server's own timeout normally fires first.
    public var replyGrace: Duration
    /// How long `PGPool` callers wait for a free connection before failing with `.timeout`.
    public var poolTimeout: Duration
    /// Further libpq connection keywords, e.g. `["sslmode": "require"]`. They override
    /// `defaultConnectionParameters` (TCP keepalives, `tcp_user_timeout`).
    public var options: [String: String]

    public init(
        host: String = "127.0.0.1", port: Int = 5432, user: String, password: String? = nil,
        database: String, applicationName: String? = nil, connectTimeout: Duration = .seconds(10),
        statementTimeout: Duration? = .seconds(30), lockTimeout: Duration? = .seconds(10),
        replyGrace: Duration = .seconds(5), poolTimeout: Duration = .seconds(10),
        options: [String: String] = [:]
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
        self.lockTimeout = lockTimeout
        self.replyGrace = replyGrace
        self.poolTimeout = poolTimeout
        self.options = options
    }

    /// libpq keywords sent unless `options` sets them: TCP keepalives after 30 s of silence, every 10 s,
    /// 3 unanswered probes drop the connection; `tcp_user_timeout` (ms) drops it when sent data stays
    /// unacknowledged for 30 s. Together they notice a peer that vanished without closing the socket.
    public static let defaultConnectionParameters: [String: String] = [
        "keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10", "keepalives_count": "3",
        "tcp_user_timeout": "30000",
    ]

    /// Parses `postgres://user:pass@host:port/db?application_name=x&connect_timeout=5`; several servers
    /// are written `host1:port1,host2:port2` and tried in order (add `target_session_attrs=read-write`
    /// to connect only to the primary).
    ///
    /// `connect_timeout` and `pool_timeout` are in seconds (fractions allowed). `statement_timeout`,
    /// `lock_timeout` and `reply_grace` are read as PostgreSQL reads its settings: milliseconds, or a
    /// number with a unit (`ms`, `s`, `min`, `h`); `0` turns the statement or lock timeout off. Other
    /// query items are passed to libpq as connection keywords (e.g. `sslmode`, `keepalives_idle`).
    /// User, password and database may be percent-encoded.
    public init(url: String) throws {
        func invalid(_ reason: String) -> PGError {
            PGError(code: .invalidConfiguration, message: "invalid PostgreSQL URL: \(reason)")
        }
        // URLComponents reads one host: the others are taken out of the authority first.
        let (singleHostURL, hosts): (String, [PGHost])
        do {
            (singleHostURL, hosts) = try ServerAddress.splitList(in: url, defaultPort: 5432)
        } catch {
            throw invalid(error.reason)
        }
        guard let components = URLComponents(string: singleHostURL) else { throw invalid("not a URL") }
        guard components.scheme == "postgres" || components.scheme == "postgresql" else {
            throw invalid("the scheme must be postgres:// or postgresql://")
        }
        guard let user = components.user.flatMap({ $0.removingPercentEncoding ?? $0 }), !user.isEmpty
        else { throw invalid("no user") }
        var host = components.host ?? "127.0.0.1"
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let path =
            components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let database = path.removingPercentEncoding ?? path
        self.init(
            host: host.isEmpty ? "127.0.0.1" : host,
            port: components.port ?? 5432,
            user: user,
            password: components.password.flatMap { $0.removingPercentEncoding ?? $0 },
            database: database.isEmpty ? user : database)
        fallbackHosts = hosts
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "application_name":
                applicationName = value
            case "connect_timeout":
                // The upper bound keeps the conversion to milliseconds from trapping on "inf" or "1e300".
                guard let seconds = Double(value), seconds > 0, seconds <= Self.maximumConnectTimeout
                else {
                    throw invalid("connect_timeout must be a positive number of seconds, at most a day")
                }
                connectTimeout = .milliseconds(Int64((seconds * 1000).rounded()))
            case "pool_timeout":
                guard let seconds = Double(value), seconds > 0, seconds <= Self.maximumConnectTimeout
                else {
                    throw invalid("pool_timeout must be a positive number of seconds, at most a day")
                }
                poolTimeout = .milliseconds(Int64((seconds * 1000).rounded()))
            case "statement_timeout", "lock_timeout", "reply_grace":
                guard let duration = Self.settingDuration(value) else {
                    throw invalid(
                        "\(item.name) must be milliseconds or a number with a unit (ms, s, min, h), at most a day"
                    )
                }
                switch item.name {
                case "statement_timeout": statementTimeout = duration == .zero ? nil : duration
                case "lock_timeout": lockTimeout = duration == .zero ? nil : duration
                default: replyGrace = duration
                }
            default:
                options[item.name] = value
            }
        }
    }

    /// The longest `connect_timeout` a URL may give, in seconds.
    static let maximumConnectTimeout: Double = 86_400

    /// Reads a PostgreSQL-style duration (`250`, `250ms`, `1.5s`, `2min`, `1h`) of at most a day.
    static func settingDuration(_ text: String) -> Duration? {
        let units: [(suffix: String, milliseconds: Double)] = [
            ("ms", 1), ("min", 60_000), ("s", 1000), ("h", 3_600_000),
        ]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var number = Substring(trimmed)
        var scale = 1.0
        if let unit = units.first(where: { trimmed.hasSuffix($0.suffix) }) {
            number = number.dropLast(unit.suffix.count)
            scale = unit.milliseconds
        }
        guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value >= 0 else {
            return nil
        }
        let milliseconds = value * scale
        guard milliseconds <= maximumConnectTimeout * 1000 else { return nil }
        return .milliseconds(Int64(milliseconds.rounded()))
    }

    /// The libpq keywords and values to connect with: the defaults, then `options` over them, with the
    /// server settings put before any `options` keyword the caller gave (so a `-c` there still wins).
    var connectionParameters: [(String, String)] {
        let servers = [PGHost(host: host, port: port)] + fallbackHosts
        var parameters: [(String, String)] = [
            ("host", servers.map(\.host).joined(separator: ",")),
            ("port", servers.map { String($0.port) }.joined(separator: ",")),
            ("user", user),
            ("dbname", database),
            ("client_encoding", "UTF8"),
        ]
        if let password { parameters.append(("password", password)) }
        if let applicationName { parameters.append(("application_name", applicationName)) }
        var defaults = Self.defaultConnectionParameters
        if !fallbackHosts.isEmpty {
            // libpq's own limit per server, so one that is silent leaves time to try the next within
            // `connectTimeout` (which bounds the whole attempt).
            let seconds = Int(connectTimeout.components.seconds) / servers.count
            defaults["connect_timeout"] = String(max(2, seconds))
        }
        var keywords = defaults.merging(options) { $1 }
        keywords["options"] = [serverSettings, options["options"]].compactMap { $0 }.joined(separator: " ")
        for (key, value) in keywords.sorted(by: { $0.key < $1.key }) {
            parameters.append((key, value))
        }
        return parameters
    }

    /// The `-c name=value` settings sent in libpq's `options` at connect.
    var serverSettings: String {
        "-c statement_timeout=\(statementTimeoutSetting) -c lock_timeout=\(lockTimeoutSetting)"
    }

    /// `statement_timeout` as PostgreSQL reads it: milliseconds, `0` for none.
    var statementTimeoutSetting: String { Self.setting(statementTimeout) }

    /// `lock_timeout` as PostgreSQL reads it: milliseconds, `0` for none.
    var lockTimeoutSetting: String { Self.setting(lockTimeout) }

    private static func setting(_ duration: Duration?) -> String {
        guard let duration else { return "0" }
        let (seconds, attoseconds) = duration.components
        // A positive timeout shorter than a millisecond must not become 0, which means none.
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return String(max(milliseconds, duration > .zero ? 1 : 0))
    }

    /// How long the client waits for a statement's reply: the statement timeout plus `replyGrace`
    /// (nil, no limit, when there is no statement timeout).
    var replyTimeout: Duration? {
        statementTimeout.map { $0 + replyGrace }
    }
}

extension PGConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        let servers = ([PGHost(host: host, port: port)] + fallbackHosts).map { "\($0.host):\($0.port)" }
        var text = "postgres://\(user)@\(servers.joined(separator: ","))/\(database)"
        if let applicationName { text += "?application_name=\(applicationName)" }
        return text
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": host, "port": port, "fallbackHosts": fallbackHosts.map { "\($0.host):\($0.port)" },
                "user": user, "database": database,
                "applicationName": applicationName as Any, "connectTimeout": connectTimeout,
                "statementTimeout": statementTimeout as Any, "lockTimeout": lockTimeout as Any,
                "poolTimeout": poolTimeout,
                "password": password == nil ? "nil" : "<redacted>",
                "options": options.keys.sorted(),
            ])
    }
}

/// One server of a multi-host configuration.
public typealias PGHost = ServerAddress
