import Foundation
import KeelTestSupport

/// The operators' API as a test calls it: plain HTTP with a bearer token, answers as JSON.
struct OperatorAPIClient: Sendable {
    let url: String

    func send(_ method: String, _ path: String, token: String?, body: String? = nil) async throws
        -> TestHTTP.Answer
    {
        var headers = ["Accept": "application/json, application/problem+json"]
        if let token { headers["Authorization"] = "Bearer " + token }
        return try await TestHTTP.send(method, url + path, headers: headers, body: body)
    }

    func get(_ path: String, token: String?) async throws -> TestHTTP.Answer {
        try await send("GET", path, token: token)
    }

    func post(_ path: String, token: String?, body: String) async throws -> TestHTTP.Answer {
        try await send("POST", path, token: token, body: body)
    }
}

extension TestHTTP.Answer {
    /// The problem document's `type`, when the answer is one.
    var problemType: String? { json?["type"] as? String }

    /// The first field error's pointer.
    var pointer: String? { ((json?["errors"] as? [[String: Any]])?.first)?["pointer"] as? String }
}
