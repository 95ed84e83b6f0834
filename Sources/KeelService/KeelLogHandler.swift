import Foundation
public import Logging

/// A swift-log handler writing one line per event to standard error, as logfmt or JSON.
///
/// Every line carries the service name; metadata such as `run_id` and `correlation_id` (`RunLogContext`)
/// is flattened into the line. Values under secret-looking keys are masked, and in the message and every
/// value URL passwords, callback and API tokens and the process's `KEEL_SECRET_*` values are hidden (see
/// `Redaction`), so a careless log call cannot leak a credential.
public struct KeelLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let service: String
    let format: LogFormat
    let sink: @Sendable (String) -> Void
    /// Values masked wherever they appear (`Redaction/secretValues(in:)`).
    let secrets: [String]

    public init(
        label: String, service: String, format: LogFormat, level: Logger.Level,
        metadataProvider: Logger.MetadataProvider? = nil, secrets: [String] = [],
        sink: @escaping @Sendable (String) -> Void = KeelLogHandler.standardError
    ) {
        self.secrets = secrets
        self.label = label
        self.service = service
        self.format = format
        self.logLevel = level
        self.metadataProvider = metadataProvider
        self.sink = sink
    }

    /// Installs the handler for the whole process; call once at start-up. The `KEEL_SECRET_*` values of the
    /// environment (the process's when nil) are masked in every line.
    public static func bootstrap(
        service: String, format: LogFormat, level: Logger.Level, environment: [String: String]? = nil
    ) {
        let secrets = Redaction.secretValues(in: environment ?? ProcessInfo.processInfo.environment)
        LoggingSystem.bootstrap { label in
            KeelLogHandler(label: label, service: service, format: format, level: level, secrets: secrets)
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let timestamp = Date().formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)
        )
        var fields: [(String, String)] = [
            ("ts", timestamp), ("level", event.level.rawValue), ("service", service), ("logger", label),
            ("msg", Redaction.redacting(event.message.description, secrets: secrets)),
        ]
        for key in merged.keys.sorted() {
            guard let value = merged[key] else { continue }
            let text =
                Redaction.isSecretKey(key)
                ? Redaction.mask : Redaction.redacting(Self.flatten(value), secrets: secrets)
            fields.append((key, text))
        }
        if event.level >= .error || event.level == .trace {
            fields.append(("source", "\(event.file.split(separator: "/").last ?? ""):\(event.line)"))
        }
        sink(format == .json ? Self.json(fields) : Self.logfmt(fields))
    }

    static func flatten(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let array): "[" + array.map(flatten).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            "{"
                + dictionary.keys.sorted().map { "\($0)=\(flatten(dictionary[$0] ?? ""))" }.joined(
                    separator: ",")
                + "}"
        }
    }

    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { key, value in
            let needsQuotes =
                value.isEmpty || value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline }
            guard needsQuotes else { return "\(key)=\(value)" }
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "\(key)=\"\(escaped)\""
        }.joined(separator: " ")
    }

    static func json(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(jsonString($0)):\(jsonString($1))" }.joined(separator: ",") + "}"
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out +=
                    "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Writes a line to standard error in one write, so concurrent lines never interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
