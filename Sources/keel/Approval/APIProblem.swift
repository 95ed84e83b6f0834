import Foundation

/// An RFC 9457 problem document (`application/problem+json`) as the approval-service sends it, and how the
/// CLI reports one: the problem's title and detail, exit 1 for a refused request, 2 for a failing service.
struct APIProblem: Decodable, Equatable {
    var type: String?
    var title: String?
    var status: Int?
    var detail: String?

    /// The CLI failure for an answer with HTTP status `status` and body `body` (a problem document, or
    /// anything else a proxy in between may send).
    static func failure(status: Int, body: Data) -> CLIFailure {
        let problem = try? JSONDecoder().decode(APIProblem.self, from: body)
        var message = problem.map(\.message) ?? ""
        message = message.isEmpty ? "HTTP \(status) from the approval-service" : message + " (HTTP \(status))"
        if status == 401 {
            message += "; check KEEL_API_TOKEN or --token (create one with keel token create)"
        }
        return (500...599).contains(status) ? .infrastructure(message) : .user(message)
    }

    /// "Title: detail", or whichever of the two is present.
    var message: String {
        let parts = [title, detail].compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
        return parts.joined(separator: ": ")
    }
}
