import ArgumentParser
import KeelStore
import Logging
import PGClient

/// `keel migrate`: brings the database to this build's schema and gives Keel's roles their grants
/// (`DatabaseRoles`), or with `--status` shows where it stands.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Apply Keel's schema migrations (idempotent; safe to run from several places at once).")

    @Option(name: .customLong("database-url"), help: "PostgreSQL URL (default: KEEL_DATABASE_URL).")
    var databaseURL: String?

    @Flag(help: "Show applied and pending migrations without changing anything.")
    var status = false

    @Flag(
        name: .customLong("no-roles"),
        help: "Leave the service roles and their grants alone (for a role without CREATEROLE).")
    var noRoles = false

    @Flag(help: "Print one JSON document instead of text.")
    var json = false

    struct Report: Encodable {
        var applied: [String]
        var pending: [String]
        var appliedNow: [String]
        var current: Bool
    }

    func run() async throws {
        let output = CLIOutput(json: json)
        let url = CLISettings().value(
            "KEEL_DATABASE_URL", flag: databaseURL, default: "postgres://keel:keel@127.0.0.1:5432/keel")
        var logger = Logger(label: "keel.migrate")
        logger.logLevel = .warning
        do {
            let migrator = try Migrator.bundled()
            let pool = PGPool(configuration: try PGConfiguration(url: url), size: 1, logger: logger)
            let (appliedNow, after) = try await pool.closing {
                let appliedNow = status ? [] : try await migrator.migrate(pool: pool, logger: logger)
                if !status && !noRoles {
                    try await pool.withConnection { try await DatabaseRoles.grant(on: $0) }
                }
                return (appliedNow, try await migrator.status(pool: pool))
            }
            if !after.changed.isEmpty || !after.unknown.isEmpty {
                throw CLIFailure.user(MigrationError.mismatch(after).description)
            }
            let report = Report(
                applied: after.applied.map(\.name), pending: after.pending.map(\.name),
                appliedNow: appliedNow.map(\.name), current: after.isCurrent)
            output.emit(report) {
                if status {
                    return
                        (after.applied.map { "applied  \($0.name)" }
                        + after.pending.map { "pending  \($0.name)" })
                        .joined(separator: "\n")
                }
                return appliedNow.isEmpty
                    ? "schema is current (\(after.applied.count) migrations)"
                    : appliedNow.map { "applied \($0.name)" }.joined(separator: "\n")
            }
        } catch let error as MigrationError {
            throw output.fail(.user(error.description))
        } catch {
            throw output.fail(CLIFailure.from(error))
        }
    }
}
