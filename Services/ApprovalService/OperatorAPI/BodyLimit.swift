import HTTPTypes
import KeelCore
import KeelService
import OpenAPIRuntime

/// Reads at most `maximumBytes` of a request body before any handler decodes it; a larger body is
/// answered 413 at once instead of being held in memory. The largest legitimate body is a run's input,
/// which a trigger bounds (`TriggerRequest.maximumBodyBytes`).
struct BodyLimit: ServerMiddleware {
    static let maximumBytes = TriggerRequest.maximumBodyBytes

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next:
            @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (
                HTTPResponse, HTTPBody?
            )
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard let body else { return try await next(request, nil, metadata) }
        let bytes: [UInt8]
        do {
            bytes = try await [UInt8](collecting: body, upTo: Self.maximumBytes)
        } catch {
            throw ProblemDetails(
                status: .contentTooLarge, type: "/problems/body-too-large", title: "Body too large",
                detail: "The request body is larger than \(Self.maximumBytes) bytes.")
        }
        return try await next(request, HTTPBody(bytes), metadata)
    }
}
