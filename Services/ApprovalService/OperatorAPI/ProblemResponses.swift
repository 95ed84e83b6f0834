import Foundation
import HTTPTypes
import KeelService
import Logging
import OpenAPIRuntime

/// Turns every failure of an operators' API request into RFC 9457 problem JSON, as the rest of Keel's
/// HTTP surface answers: a `ProblemDetails` a handler or middleware threw as it is; a request the
/// generated server could not decode (a query item of the wrong type, a body that is not the schema's)
/// as 400 naming the field; anything else as a 500 that names nothing, logged here.
struct ProblemResponses: ServerMiddleware {
    let logger: Logger

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next:
            @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (
                HTTPResponse, HTTPBody?
            )
    ) async throws -> (HTTPResponse, HTTPBody?) {
        do {
            return try await next(request, body, metadata)
        } catch let problem as ProblemDetails {
            return Self.response(problem)
        } catch let error as ServerError {
            if let problem = error.underlyingError as? ProblemDetails { return Self.response(problem) }
            if error.operationInput == nil { return Self.response(Self.invalidRequest(error)) }
            logger.error(
                "operators' API request failed",
                metadata: [
                    "operation": "\(operationID)", "error": "\(String(reflecting: error.underlyingError))",
                ])
            return Self.response(
                ProblemDetails(
                    status: .internalServerError, type: "/problems/internal", title: "Internal error",
                    detail: "The request failed inside the approval-service; its log says why."))
        }
    }

    /// A request that does not decode as its operation's input, with the field at fault when known.
    static func invalidRequest(_ error: ServerError) -> ProblemDetails {
        var pointer: String?
        var detail = error.causeDescription
        if let decoding = error.underlyingError as? DecodingError {
            let (path, reason) = describe(decoding)
            if path.isEmpty {
                // A query item or path parameter, which the runtime does not name.
                if let (name, expected) = QueryItemCheck.firstInvalid(
                    inPath: error.request.path, operationID: error.operationID)
                {
                    pointer = name
                    detail = "\(name): \(expected)"
                } else {
                    detail = "a path parameter: \(reason)"
                }
            } else {
                pointer = "/" + path.map(\.stringValue).joined(separator: "/")
                detail = "\(pointer ?? "/"): \(reason)"
            }
        } else {
            detail += ": \(error.underlyingError)"
        }
        return ProblemDetails(
            status: .badRequest, type: "/problems/invalid-request", title: "Invalid request",
            detail: detail, errors: pointer.map { [.init(pointer: $0, detail: detail)] })
    }

    private static func describe(_ error: DecodingError) -> ([any CodingKey], String) {
        switch error {
        case .typeMismatch(let type, let context):
            (context.codingPath, "expected \(type); \(context.debugDescription)")
        case .valueNotFound(_, let context):
            (context.codingPath, "expected a value; \(context.debugDescription)")
        case .keyNotFound(let key, let context):
            (context.codingPath + [key], "missing required field")
        case .dataCorrupted(let context):
            (context.codingPath, context.debugDescription)
        @unknown default:
            ([], "\(error)")
        }
    }

    static func response(_ problem: ProblemDetails) -> (HTTPResponse, HTTPBody?) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = (try? encoder.encode(problem)) ?? Data()
        var fields = HTTPFields()
        fields[.contentType] = ProblemDetails.mediaType
        return (HTTPResponse(status: problem.status, headerFields: fields), HTTPBody(Array(bytes)))
    }
}
