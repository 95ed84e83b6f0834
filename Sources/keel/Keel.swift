import ArgumentParser

/// The `keel` command: operators' and agents' way into a Keel installation.
@main
struct Keel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keel",
        abstract: "Run and inspect reliable workflows around coding agents.",
        discussion: """
            Settings come from flags, then environment variables (KEEL_DATABASE_URL, ...), then the .keel/env \
            file the local stack writes. Exit codes: 0 success, 1 user error (bad input, refused operation), \
            2 infrastructure error (database or broker unreachable), 64 usage error; `run start --wait` \
            also exits 2 when the run failed or was cancelled and 3 when it did not finish in time.
            """,
        version: KeelCLIVersion.current,
        subcommands: [
            Migrate.self, Status.self, FlowCommand.self, TemplateCommand.self, RunCommand.self,
            ResourceCommand.self, TokenCommand.self, ApprovalsCommand.self, ApproveCommand.self,
            RejectCommand.self, RequestChangesCommand.self, CallbackCommand.self, StatsCommand.self,
            PublisherCommand.self, ScheduleCommand.self, RoleCommand.self, BrokerCommand.self, Docs.self,
        ])
}

enum KeelCLIVersion {
    static let current = "0.1.0"
}
