/// Why a flow or template operation was refused. These are user errors (exit code 1 in the CLI): the database
/// answered, but the request does not make sense for the flow's current state.
public enum FlowStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownFlow(String)
    case unknownVersion(flow: String, version: Int)
    case noLiveRelease(flow: String)
    case alreadyLive(flow: String, version: Int)
    case nothingToRollBack(flow: String)
    case unknownTemplate(String)
    case unknownTemplateVersion(template: String, version: Int)
    case unknownSchedule(flow: String, id: String)

    public var description: String {
        switch self {
        case .unknownFlow(let flow):
            "no flow named '\(flow)'"
        case .unknownVersion(let flow, let version):
            "flow '\(flow)' has no version \(version)"
        case .noLiveRelease(let flow):
            "flow '\(flow)' has no live release; release a version, or name a draft explicitly"
        case .alreadyLive(let flow, let version):
            "version \(version) of flow '\(flow)' is already live"
        case .nothingToRollBack(let flow):
            "flow '\(flow)' has no earlier release to roll back to"
        case .unknownTemplate(let template):
            "no template named '\(template)'"
        case .unknownSchedule(let flow, let id):
            "the live release of flow '\(flow)' has no schedule '\(id)'"
        case .unknownTemplateVersion(let template, let version):
            "template '\(template)' has no version \(version)"
        }
    }
}
