import Foundation
import KeelCore

/// The console's URLs. Path segments (flow names, run ids) are percent-encoded as the approval links
/// are; query values are percent-encoded for a query.
enum ConsoleLinks {
    static let runs = "/console/runs"
    static let flows = "/console/flows"
    static let deadLetters = "/console/dead-letters"
    static let webhooks = "/console/webhooks"
    static let actions = "/console/actions"

    static func run(_ id: RunID) -> String {
        runs + "/" + id.description
    }

    static func flow(_ name: String) -> String {
        flows + "/" + ApprovalLinks.encoded(name)
    }

    static func diff(_ name: String, from: Int, to: Int) -> String {
        flow(name) + "/diff?from=\(from)&to=\(to)"
    }

    /// The runs of one flow.
    static func runs(of flow: String) -> String {
        runs + query([("flow", flow)])
    }

    /// `?name=value&...` with every value percent-encoded; empty values left out; "" when none is left.
    static func query(_ items: [(String, String)]) -> String {
        let kept = items.filter { !$0.1.isEmpty }
        guard !kept.isEmpty else { return "" }
        return "?" + kept.map { "\($0.0)=\(encodedQueryValue($0.1))" }.joined(separator: "&")
    }

    private static let queryValue = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~:"))

    static func encodedQueryValue(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: queryValue) ?? value
    }
}
