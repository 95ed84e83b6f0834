import AsyncHTTPClient
import Foundation
import HTTPTypes
import KeelAPI
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

/// The operators' API as the CLI calls it: the client generated from `Sources/KeelAPI/openapi.yaml` over
/// AsyncHTTPClient, the token sent in the Authorization header only (never printed, never in an error),
/// every answer that is not a success turned into the problem's `CLIFailure` before the generated code
/// sees it, so each command handles only the answer it asked for.
struct OperatorAPIConnection: Sendable {
    let baseURL: URL
    let token: String

    var client: Client {
        Client(
            serverURL: baseURL, configuration: .keel,
            transport: AsyncHTTPClientTransport(configuration: .init(client: .shared, timeout: .seconds(30))),
            middlewares: [Authorization(token: token), Problems()])
    }

    /// Runs `body` against the API; failures become the documented exit codes with a message.
    func call<T: Sendable>(_ body: (Client) async throws -> T) async throws -> T {
        do {
            return try await body(client)
        } catch let error as ClientError {
            if let failure = error.underlyingError as? CLIFailure { throw failure }
            throw CLIFailure.infrastructure(
                "approval-service at \(displayURL) not reachable or answered unexpectedly "
                    + "(\(CLIHTTPClient.reason(error.underlyingError))); is it running? "
                    + "(KEEL_APPROVAL_SERVICE_URL or --api-url)")
        }
    }

    /// The base URL for messages, without any user or password it may carry.
    var displayURL: String { baseURL.displayWithoutCredentials }

    /// An answer the generated client got that the document does not describe for this call.
    static func unexpected(_ what: String) -> CLIFailure {
        .infrastructure("the approval-service answered \(what) in a way this keel does not know")
    }

    struct Authorization: ClientMiddleware {
        let token: String

        func intercept(
            _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
            next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
        ) async throws -> (HTTPResponse, HTTPBody?) {
            var request = request
            request.headerFields[.authorization] = "Bearer " + token
            return try await next(request, body, baseURL)
        }
    }

    /// A refused request's problem document as the CLI reports every service's problems (`APIProblem`).
    struct Problems: ClientMiddleware {
        func intercept(
            _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
            next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
        ) async throws -> (HTTPResponse, HTTPBody?) {
            let (response, responseBody) = try await next(request, body, baseURL)
            guard response.status.kind != .successful else { return (response, responseBody) }
            let bytes: [UInt8] =
                if let responseBody {
                    (try? await [UInt8](collecting: responseBody, upTo: 64 * 1024)) ?? []
                } else { [] }
            throw APIProblem.failure(
                status: response.status.code, body: Data(bytes),
                tokenHint: "check KEEL_API_TOKEN or --api-token (create one with keel token create)")
        }
    }
}
