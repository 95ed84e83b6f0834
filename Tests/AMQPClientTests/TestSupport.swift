import AMQPClient
import Foundation
import KeelTestSupport
import Logging
import Synchronization
import Testing

/// Shared helpers of the AMQPClient integration tests: the broker URL, unique names, log capture.
enum AMQPTest {
    static func configuration(_ adjust: (inout AMQPConfiguration) -> Void = { _ in }) throws
        -> AMQPConfiguration
    {
        var configuration = try AMQPConfiguration(url: TestEnvironment.require("KEEL_AMQP_URL"))
        configuration.connectionName = "keel-amqp-tests"
        configuration.recovery.initialDelay = .milliseconds(100)
        configuration.recovery.maxDelay = .seconds(1)
        adjust(&configuration)
        return configuration
    }

    static func connect(
        logs: LogCapture = LogCapture(), _ adjust: (inout AMQPConfiguration) -> Void = { _ in }
    ) async throws -> AMQPConnection {
        try await AMQPConnection.connect(configuration(adjust), logger: logs.logger)
    }

    /// A queue or exchange name no other test (or earlier run) uses.
    static func name(_ purpose: String) -> String {
        "keel.test.\(purpose).\(UUID().uuidString.prefix(8).lowercased())"
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
}

/// Collects log messages so tests can assert what the connection went through (lost, recovered).
final class LogCapture: Sendable {
    private let messages = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "keel.amqp.test") { _ in Handler(capture: self) }
        logger.logLevel = .debug
        return logger
    }

    var all: [String] { messages.withLock { $0 } }

    func contains(_ text: String) -> Bool { all.contains { $0.contains(text) } }

    fileprivate func append(_ message: String) { messages.withLock { $0.append(message) } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            capture.append("\(event.level) \(event.message) \(merged)")
        }
    }
}

/// A value shared between test tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}
