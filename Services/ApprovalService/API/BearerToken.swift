import Foundation
import Hummingbird
import KeelService
import KeelStore

/// Who is asking: the holder of the request's `Authorization: Bearer` API token.
enum BearerToken {
    /// The token's record, or a 401 problem that does not say whether the token was malformed, unknown,
    /// revoked or wrong.
    static func principal(of request: Request, tokens: APITokenStore) async throws -> APITokenRecord {
        try await principal(authorization: request.headers[.authorization], tokens: tokens)
    }

    /// The same, from the `Authorization` header's value.
    static func principal(authorization header: String?, tokens: APITokenStore) async throws -> APITokenRecord
    {
        guard let header else {
            throw unauthorized("This endpoint needs an API token: send 'Authorization: Bearer <token>'.")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw unauthorized("The Authorization header must be 'Bearer <token>'.")
        }
        guard
            let principal = try await tokens.authenticate(
                String(parts[1]).trimmingCharacters(in: .whitespaces))
        else { throw unauthorized("The API token is not valid (unknown, revoked or mistyped).") }
        return principal
    }

    private static func unauthorized(_ detail: String) -> ProblemDetails {
        ProblemDetails(
            status: .unauthorized, type: "/problems/unauthorized", title: "Authentication required",
            detail: detail)
    }
}
