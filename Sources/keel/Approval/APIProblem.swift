import Foundation

/// An RFC 9457 problem document (`application/problem+json`) as Keel's HTTP services send it, and how the
/// CLI reports one: the problem's title and detail, then each field error's pointer; exit 1 for a refused
/// request, 2 for a failing service.
struct APIProblem: Decodable, Equatable {
    var type: String?
    var title: String?
    var status: Int?
    var detail: String?
    var errors: [FieldError]?

    /// One bad field of the request: where (a JSON Pointer into the body) and what was expected.
    struct FieldError: Decodable, Equatable {
        var pointer: String?
        var detail: String?
    }

    /// The CLI failure for an answer with HTTP status `status` and body `body` (a problem document, or
    /// anything else a proxy in between may send). `service` names the server in a message without a
    /// problem; `tokenHint` says on a 401 where the token comes from (never what it is).
    static func failure(
        status: Int, body: Data, service: String = "the approval-service",
        tokenHint: String = "check KEEL_API_TOKEN or --token (create one with keel token create)"
    ) -> CLIFailure {
        let problem = try? JSONDecoder().decode(APIProblem.self, from: body)
        var message = problem.map(\.message) ?? ""
        message = message.isEmpty ? "HTTP \(status) from \(service)" : message + " (HTTP \(status))"
        if status == 401 {
            message += "; " + tokenHint
        }
        for line in problem?.fieldErrorLines ?? [] {
            message += "\n  " + line
        }
        return (500...599).contains(status) ? .infrastructure(message) : .user(message)
    }

    /// "Title: detail", or whichever of the two is present.
    var message: String {
        let parts = [title, detail].compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
        return parts.joined(separator: ": ")
    }

    /// `/output/p50_ms: expected an integer` for each field error (`(body)` for the empty pointer).
    var fieldErrorLines: [String] {
        (errors ?? []).map { error in
            let pointer = error.pointer.map { $0.isEmpty ? "(body)" : $0 } ?? "(body)"
            let detail = error.detail?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            return detail.isEmpty ? pointer : pointer + ": " + detail
        }
    }
}
