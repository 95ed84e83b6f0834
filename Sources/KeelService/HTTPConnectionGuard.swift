import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers what the routes never see, in the services' own error format, and ends connections that
/// must not go on.
///
/// - A request the HTTP parser refuses (a NUL or a line break in a header, a malformed request line,
///   headers over the limit) is answered 400 with RFC 9457 problem JSON instead of an empty 400, and
///   the connection is closed: the parser cannot find the next request after an error.
/// - A 413 ends the connection (with `Connection: close`) instead of draining a body the route would
///   not read, however large, before the connection could serve again. It ends as HTTP servers end
///   it (a "lingering close"): the response is sent and the output half-closed, what the client is
///   still sending is read and dropped until it stops or `lingering` passes, then the socket closes.
///   Closing at once would reset the connection under a client still sending, which then loses the
///   response.
///
/// It sits after the HTTP codec, so it sees requests and responses as `HTTPTypes` parts, and is
/// added to every service's pipeline by `buildApplication`.
final class HTTPConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// How long a connection ended by a 413 keeps reading (and dropping) what the client still sends.
    static let lingering = TimeAmount.seconds(5)

    /// Requests whose head arrived and whose response has not ended.
    private var inProgress = 0
    private var closeAfterResponse = false
    /// The response that ends the connection is out; inbound parts are dropped until it closes.
    private var isLingering = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard !isLingering else {
            // The client finished sending what it had started: nothing is left to drop.
            if case .end = part { context.close(promise: nil) }
            return
        }
        if case .head = part { inProgress += 1 }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status == .contentTooLarge:
            closeAfterResponse = true
            head.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end:
            inProgress -= 1
            guard closeAfterResponse else { return context.write(data, promise: promise) }
            context.writeAndFlush(data, promise: promise)
            isLingering = true
            let channel = context.channel
            context.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: Self.lingering) { channel.close(promise: nil) }
        default:
            context.write(data, promise: promise)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, inProgress == 0 else {
            return context.fireErrorCaught(error)
        }
        let body = Self.problem(for: parserError)
        let head = HTTPResponse(
            status: .badRequest,
            headerFields: [
                .contentType: ProblemDetails.mediaType, .contentLength: "\(body.count)", .connection: "close",
            ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }

    /// The problem document for a parser error; its detail names the part of the request at fault,
    /// never the bytes that were sent.
    static func problem(for error: HTTPParserError) -> [UInt8] {
        let detail: String
        switch error {
        case .invalidHeaderToken, .invalidCharactersUsed:
            detail = "A header holds a character HTTP does not allow (such as NUL or a bare line break)."
        case .headerOverflow:
            detail = "The request headers are larger than this server reads."
        case .invalidMethod, .invalidURL, .invalidVersion, .invalidConstant, .invalidPath,
            .invalidQueryString, .lfExpected:
            detail = "The request line is not valid HTTP/1.1."
        case .invalidContentLength, .unexpectedContentLength,
            .invalidChunkSize:
            detail = "The request's body framing (Content-Length or chunked encoding) is not valid."
        default:
            detail = "The request is not valid HTTP/1.1."
        }
        let problem = ProblemDetails(
            status: .badRequest, type: "/problems/malformed-request", title: "Malformed request",
            detail: detail)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(problem)) ?? Data())
    }
}
