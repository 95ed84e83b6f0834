import Foundation

/// Where and how to connect, usually parsed from a `postgres://` URL given in the environment.
///
/// `description`, `debugDescription` and the mirror (`dump`) leave the password and the libpq
/// `options` (which may hold `sslpassword`) out, so a configuration can be logged.
public struct PGConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// Shown in `pg_stat_activity.application_name`; lets operators tell services apart.
    public var applicationName: String?
    /// How long a connection attempt may take before it fails with `.timeout`.
    public var connectTimeout: Duration
    /// Further libpq connection keywords, e.g. `["sslmode": "require"]`.
    public var options: [String: String]

    public init(
        host: String = "127.0.0.1", port: Int = 5432, user: String, password: String? = nil,
        database: String, applicationName: String? = nil, connectTimeout: Duration = .seconds(10),
        options: [String: String] = [:]
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
        self.options = options
    }

    /// Parses `postgres://user:pass@host:port/db?application_name=x&connect_timeout=5`.
    ///
    /// `connect_timeout` is in seconds (fractions allowed); other query items are passed to libpq
    /// as connection keywords (e.g. `sslmode`). User, password and database may be percent-encoded.
    public init(url: String) throws {
        func invalid(_ reason: String) -> PGError {
            PGError(code: .invalidConfiguration, message: "invalid PostgreSQL URL: \(reason)")
        }
        guard let components = URLComponents(string: url) else { throw invalid("not a URL") }
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
            default:
                options[item.name] = value
            }
        }
    }

    /// The longest `connect_timeout` a URL may give, in seconds.
    static let maximumConnectTimeout: Double = 86_400
}

extension PGConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        var text = "postgres://\(user)@\(host):\(port)/\(database)"
        if let applicationName { text += "?application_name=\(applicationName)" }
        return text
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": host, "port": port, "user": user, "database": database,
                "applicationName": applicationName as Any, "connectTimeout": connectTimeout,
                "password": password == nil ? "nil" : "<redacted>",
                "options": options.keys.sorted(),
            ])
    }
}
