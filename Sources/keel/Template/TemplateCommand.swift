import ArgumentParser

/// `keel template ...`: publish and inspect flow templates (flows are made from them with `keel flow create`).
struct TemplateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Publish and list flow templates; create flows from them with 'keel flow create'.",
        subcommands: [TemplatePublish.self, TemplateList.self, TemplateShow.self])
}
