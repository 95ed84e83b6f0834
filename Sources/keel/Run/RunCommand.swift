import ArgumentParser

/// `keel run ...`: start runs and follow them.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Start runs of flows.", subcommands: [RunStart.self])
}
