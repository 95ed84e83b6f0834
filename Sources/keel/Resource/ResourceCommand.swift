import ArgumentParser

/// `keel resource ...`: store, fetch, inspect and collect content-addressed artifacts.
struct ResourceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resource",
        abstract: "Store, fetch, inspect and collect resources (content-addressed artifacts).",
        discussion: """
            A resource is stored once by its SHA-256 and referred to as res:sha256:<hex>. Content goes to the \
            backend in KEEL_RESOURCE_BACKEND (postgres, the default, or directory with KEEL_RESOURCE_DIRECTORY); \
            see docs/resources.md.
            """,
        subcommands: [
            ResourcePut.self, ResourceGet.self, ResourceList.self, ResourceShow.self, ResourceCollect.self,
        ])
}
