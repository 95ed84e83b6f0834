import HTTPTypes
import KeelStore
import OpenAPIRuntime

/// Authenticates every operators' API request by its bearer token before its handler runs: an answer of
/// 401 (`ProblemResponses`) for a missing, malformed, unknown or revoked token, which never says which.
struct BearerAuthentication: ServerMiddleware {
    let tokens: APITokenStore

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next:
            @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (
                HTTPResponse, HTTPBody?
            )
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let principal = try await BearerToken.principal(
            authorization: request.headerFields[.authorization], tokens: tokens)
        return try await OperatorPrincipal.$current.withValue(principal) {
            try await next(request, body, metadata)
        }
    }
}
