import ArgumentParser
import KeelStore
import Logging
import PGClient

/// `--database-url` and `--json`, shared by every command that reads or writes the system of record.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: "PostgreSQL URL (default: KEEL_DATABASE_URL, then .keel/env).")
    var databaseURL: String?

    @Flag(help: "Print one JSON document instead of text (shapes documented in docs/cli.md).")
    var json = false

    var output: CLIOutput { CLIOutput(json: json) }

    var resolvedURL: String { Self.resolvedURL(flag: databaseURL) }

    /// The flag, else KEEL_DATABASE_URL, else `.keel/env`, else the local default.
    static func resolvedURL(flag: String?) -> String {
        CLISettings().value(
            "KEEL_DATABASE_URL", flag: flag, default: "postgres://keel:keel@127.0.0.1:5432/keel")
    }

    /// Opens a small pool, runs `body`, closes the pool, and turns any failure into the documented exit
    /// code with a message on standard error (or a JSON error document with `--json`).
    func withPool<T: Sendable>(_ body: (PGPool) async throws -> T) async throws -> T {
        try await Self.withPool(url: resolvedURL, output: output, body)
    }

    /// `withPool` for commands that take `--database-url` among options of their own.
    static func withPool<T: Sendable>(
        url: String, output: CLIOutput, _ body: (PGPool) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "keel.cli")
        logger.logLevel = .warning
        do {
            let pool = PGPool(configuration: try PGConfiguration(url: url), size: 2, logger: logger)
            return try await pool.closing { try await body(pool) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw output.fail(CLIFailure.from(error))
        }
    }
}

/// Who is acting: `--actor`, else KEEL_ACTOR, else the login name. Recorded on versions and releases.
struct ActorOption: ParsableArguments {
    @Option(help: "Who is acting, as recorded in history (default: KEEL_ACTOR, then $USER).")
    var actor: String?

    var resolved: String {
        let settings = CLISettings()
        return settings.value(
            "KEEL_ACTOR", flag: actor, default: settings.value("USER", flag: nil, default: "unknown"))
    }
}
