public import Hummingbird
import Logging

/// Turns every error escaping a route into RFC 9457 problem JSON.
///
/// `ProblemDetails` pass through as they are; Hummingbird's `HTTPError`s keep their status and their
/// message; a body over a route's limit is 413 `/problems/body-too-large`; anything else is a 500 whose body says only that the error was logged, under an id the
/// operator can find in the logs. No error's own text reaches the caller unless it was written for them.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as ProblemDetails {
            throw problem
        } catch let error as HTTPError {
            throw ProblemDetails(status: error.status, detail: error.body, instance: request.uri.path)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // A body over the route's `collect(upTo:)` limit (NIOTooManyBytesError): the client's fault.
            throw ProblemDetails(
                status: .contentTooLarge, type: "/problems/body-too-large", title: "Body too large",
                detail: "The body is larger than this endpoint reads.", instance: request.uri.path)
        } catch {
            let incident = String(UInt64.random(in: 0...UInt64.max), radix: 16)
            context.logger.error(
                "unhandled error in \(request.method) \(request.uri.path)",
                metadata: ["incident": .string(incident), "error": .string(String(describing: error))])
            throw ProblemDetails(
                status: .internalServerError,
                detail: "The server failed to handle the request; it was logged as incident \(incident).",
                instance: request.uri.path)
        }
    }
}
