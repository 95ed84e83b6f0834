public import KeelCore
public import KeelStore
public import Configuration
public import Logging
import Foundation

/// The settings every service shares, read once at start-up.
///
/// Each setting comes, in order of precedence, from a command-line flag (`--database-url`), an environment
/// variable (`KEEL_DATABASE_URL`), or the local-stack default of DESIGN §4. Connection URLs are read as
/// secrets, so configuration access logging never shows their passwords.
public struct KeelConfiguration: Sendable {
    public var service: KeelServiceKind
    /// Address the HTTP server binds; loopback by default.
    public var host: String
    public var port: Int
    public var databaseURL: String
    public var amqpURL: String
    /// Connections the service's PostgreSQL pool may open.
    public var databasePoolSize: Int
    /// Unacknowledged deliveries each consumer may hold (`basic.qos`): the service's backpressure.
    public var prefetch: Int
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    /// Step queue shards and the executors' lease: the same in every service.
    public var engine: EngineSettings
    /// The executor pool a step-executor serves: its `runs_on` labels (comma-separated in
    /// `KEEL_STEP_POOL`), or none for `default`.
    public var stepPool: [String]
    /// approval-service: browsers reach its page over https (a TLS-terminating proxy in front), so the
    /// session cookie gets `Secure` and a form post's `Origin` must be `https://<Host>`.
    public var webHTTPS: Bool
    /// Where spans go (`http://collector:4318`, OTLP/HTTP; `/v1/traces` is added); nil: no tracing.
    public var otlpEndpoint: String?
    /// `http/protobuf` or `http/json`.
    public var otlpProtocol: String

    public static let defaultDatabaseURL = "postgres://keel:keel@127.0.0.1:5432/keel"
    public static let defaultAMQPURL = "amqp://keel:keel@127.0.0.1:5672/keel"

    /// Reads the configuration; an unparsable value is an error naming the setting.
    public init(service: KeelServiceKind, reader: ConfigReader) throws {
        self.service = service
        host = reader.string(forKey: "http.host", default: "127.0.0.1")
        port = try Self.int(reader, "http.port", default: service.defaultPort)
        databaseURL = reader.string(
            forKey: "database.url", isSecret: true, default: Self.defaultDatabaseURL)
        amqpURL = reader.string(forKey: "amqp.url", isSecret: true, default: Self.defaultAMQPURL)
        databasePoolSize = try Self.int(reader, "database.pool.size", default: 8)
        prefetch = try Self.int(reader, "amqp.prefetch", default: 32)
        let shards = try Self.int(reader, "step.shards", default: 4)
        guard (1...256).contains(shards) else {
            throw ConfigurationError(
                setting: "step.shards", value: String(shards), expected: "between 1 and 256")
        }
        let lease = try Self.double(reader, "step.lease.seconds", default: 30)
        guard lease >= 1, lease <= 3600 else {
            throw ConfigurationError(
                setting: "step.lease.seconds", value: String(lease), expected: "between 1 and 3600")
        }
        engine = EngineSettings(stepShards: shards, leaseDuration: .milliseconds(Int64(lease * 1000)))
        stepPool = reader.string(forKey: "step.pool", default: "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }

        webHTTPS = try Self.bool(reader, "web.https", default: false)
        otlpEndpoint = reader.string(forKey: "otlp.endpoint").flatMap { $0.isEmpty ? nil : $0 }
        otlpProtocol = reader.string(forKey: "otlp.protocol", default: "http/protobuf")
        guard ["http/protobuf", "http/json"].contains(otlpProtocol) else {
            throw ConfigurationError(
                setting: "otlp.protocol", value: otlpProtocol, expected: "http/protobuf or http/json")
        }
        if let otlpEndpoint {
            guard let url = URL(string: otlpEndpoint), ["http", "https"].contains(url.scheme ?? ""),
                url.host != nil
            else {
                throw ConfigurationError(
                    setting: "otlp.endpoint", value: otlpEndpoint, expected: "an http or https URL")
            }
        }

        let level = reader.string(forKey: "log.level", default: "info")
        guard let parsedLevel = Logger.Level(rawValue: level) else {
            throw ConfigurationError(
                setting: "log.level", value: level,
                expected: Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
        }
        logLevel = parsedLevel
        let format = reader.string(forKey: "log.format", default: LogFormat.logfmt.rawValue)
        guard let parsedFormat = LogFormat(rawValue: format) else {
            throw ConfigurationError(
                setting: "log.format", value: format,
                expected: LogFormat.allCases.map(\.rawValue).joined(separator: ", "))
        }
        logFormat = parsedFormat
        guard (1...65535).contains(port) else {
            throw ConfigurationError(
                setting: "http.port", value: String(port), expected: "a port between 1 and 65535")
        }
        guard (1...65535).contains(prefetch) else {
            throw ConfigurationError(
                setting: "amqp.prefetch", value: String(prefetch), expected: "between 1 and 65535")
        }
        guard databasePoolSize >= 1 else {
            throw ConfigurationError(
                setting: "database.pool.size", value: String(databasePoolSize),
                expected: "at least 1")
        }
    }

    /// A whole number, or `value` when the setting is not given. Read as text and parsed here: the
    /// reader's own `int(forKey:default:)` falls back to the default for text that does not parse, and a
    /// mistyped port must stop the service, not start it on another.
    static func int(_ reader: ConfigReader, _ key: String, default value: Int) throws(ConfigurationError)
        -> Int
    {
        guard let text = given(reader, key) else { return value }
        guard let number = Int(text) else {
            throw ConfigurationError(setting: key, value: text, expected: "a whole number")
        }
        return number
    }

    /// A number, or `value` when the setting is not given; text that does not parse is an error.
    static func double(_ reader: ConfigReader, _ key: String, default value: Double)
        throws(ConfigurationError)
        -> Double
    {
        guard let text = given(reader, key) else { return value }
        guard let number = Double(text), number.isFinite else {
            throw ConfigurationError(setting: key, value: text, expected: "a number")
        }
        return number
    }

    /// `true` or `false`, or `value` when the setting is not given; anything else is an error.
    static func bool(_ reader: ConfigReader, _ key: String, default value: Bool) throws(ConfigurationError)
        -> Bool
    {
        guard let text = given(reader, key) else { return value }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ConfigurationError(setting: key, value: text, expected: "true or false")
        }
    }

    private static func given(_ reader: ConfigReader, _ key: String) -> String? {
        guard let text = reader.string(forKey: ConfigKey(key))?.trimmingCharacters(in: .whitespaces),
            !text.isEmpty
        else { return nil }
        return text
    }

    /// The standard sources: command-line flags, then `KEEL_`-prefixed environment variables.
    public static func standardReader(arguments: [String] = CommandLine.arguments) -> ConfigReader {
        reader(environment: ProcessInfo.processInfo.environment, arguments: arguments)
    }

    /// The standard sources over the given environment rather than the process's: how a test reads a
    /// service's settings exactly as the service would.
    public static func reader(environment: [String: String], arguments: [String] = []) -> ConfigReader {
        ConfigReader(providers: [
            CommandLineArgumentsProvider(arguments: arguments),
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: ["keel"]),
        ])
    }
}

/// The URLs' passwords are masked in every textual form (`"\(configuration)"`, `debugDescription`,
/// `dump`), so a configuration can be logged or printed while debugging without leaking credentials.
extension KeelConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "KeelConfiguration(service: \(service.rawValue), http: \(host):\(port), "
            + "database: \(Redaction.maskingURLPasswords(in: databaseURL)) (pool \(databasePoolSize)), "
            + "amqp: \(Redaction.maskingURLPasswords(in: amqpURL)), log: \(logLevel) \(logFormat.rawValue))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "service": service, "host": host, "port": port,
                "databaseURL": Redaction.maskingURLPasswords(in: databaseURL),
                "amqpURL": Redaction.maskingURLPasswords(in: amqpURL),
                "databasePoolSize": databasePoolSize, "logLevel": logLevel, "logFormat": logFormat,
            ])
    }
}

/// A configuration value that cannot be used; says which setting and what was expected.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let setting: String
    public let value: String
    public let expected: String

    public init(setting: String, value: String, expected: String) {
        self.setting = setting
        self.value = value
        self.expected = expected
    }

    public var description: String {
        "invalid setting \(setting)=\(value): expected \(expected)"
    }
}
