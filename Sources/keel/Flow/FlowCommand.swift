import ArgumentParser

/// `keel flow ...`: validate, store, release and inspect flow definitions.
struct FlowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "Store, release, roll back and inspect versioned flows.",
        subcommands: [
            FlowValidate.self, FlowPush.self, FlowList.self, FlowShow.self, FlowVersions.self,
            FlowRelease.self, FlowRollback.self,
            FlowDiff.self, FlowShadow.self, FlowCreate.self,
        ])
}
