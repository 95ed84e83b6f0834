import Foundation

import AsyncHTTPClient
import NIOCore

/// The approval-service's HTTP API (docs/approvals.md), as the CLI uses it: every call authenticated with a
/// bearer token that is sent in the Authorization header only, never printed and never part of an error.
struct ApprovalClient: Sendable {
    /// The service's base URL, e.g. `http://127.0.0.1:7403`.
    let baseURL: URL
    let token: String

    /// `GET /v1/approvals?status=S`: the body, `{"approvals": [...]}`.
    func list(status: String) async throws -> Data {
        try await send("GET", path: "/v1/approvals", query: [URLQueryItem(name: "status", value: status)])
    }

    /// `GET /v1/approvals/{id}`: the body, `{"approval": {...}, "timeline": {...}}`.
    func show(_ id: String) async throws -> Data {
        try await send("GET", path: "/v1/approvals/" + Self.pathSegment(id))
    }

    /// `POST /v1/approvals/{id}/decision`: the body, `{"approval": {...}}` after the decision.
    func decide(_ id: String, decision: String, note: String?, digests: [String]?) async throws -> Data {
        struct Body: Encodable {
            var decision: String
            var note: String?
            var digests: [String]?
        }
        let body = try JSONEncoder().encode(Body(decision: decision, note: note, digests: digests))
        return try await send("POST", path: "/v1/approvals/\(Self.pathSegment(id))/decision", body: body)
    }

    /// Sends one request; a non-2xx answer becomes the problem's `CLIFailure`, an unreachable service an
    /// infrastructure failure naming the URL (which never carries the token).
    func send(_ method: String, path: String, query: [URLQueryItem] = [], body: Data? = nil) async throws
        -> Data
    {
        guard var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: false) else {
            throw CLIFailure.user("approval-service URL \(displayURL): not a URL")
        }
        components.percentEncodedPath = components.percentEncodedPath.trimmingSuffix("/") + path
        if !query.isEmpty { components.queryItems = query }
        guard let url = components.url else {
            throw CLIFailure.user("approval-service URL \(displayURL): not a URL")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .init(rawValue: method)
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.body = .bytes(ByteBuffer(bytes: Array(body)))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let answer: CLIHTTPAnswer
        do {
            answer = try await CLIHTTPClient.send(request, timeout: .seconds(30))
        } catch {
            throw CLIFailure.infrastructure(
                "approval-service at \(displayURL) not reachable (\(CLIHTTPClient.reason(error))); "
                    + "is it running? (KEEL_APPROVAL_SERVICE_URL or --url)")
        }
        guard (200...299).contains(answer.status) else {
            throw APIProblem.failure(status: answer.status, body: answer.body)
        }
        return answer.body
    }

    /// The base URL for messages, without any user or password it may carry.
    var displayURL: String { baseURL.displayWithoutCredentials }

    /// An approval id (`<run>:<step>:<attempt>:approval`) as one path segment.
    static func pathSegment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: unreservedInPath) ?? id
    }

    /// RFC 3986 unreserved characters plus `:` and `@`, which a path segment may hold as they are.
    private static let unreservedInPath = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:@")
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: Character) -> String {
        var text = self
        while text.last == suffix { text.removeLast() }
        return text
    }
}
