import ArgumentParser

/// `keel run ...`: start runs and follow them.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Start runs and see what they did.",
        subcommands: [
            RunStart.self, RunList.self, RunShow.self, RunHistory.self, RunCancel.self, RunRetry.self,
        ])
}
