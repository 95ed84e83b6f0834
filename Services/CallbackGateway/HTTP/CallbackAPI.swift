import Foundation
import HTTPTypes
import Hummingbird
import KeelCore
import KeelService

/// The callback-gateway's HTTP API (DESIGN §4): `POST /v1/callbacks` with the callback token in
/// `Authorization: Bearer`, and `POST /v1/callbacks/resources` for the files a callback refers to.
struct CallbackAPI: Sendable {
    let receiver: CallbackReceiver
    let uploads: CallbackUploads

    func add(to router: Router<some RequestContext>) {
        router.post("/v1/callbacks") { request, context in try await callback(request, context: context) }
        router.post("/v1/callbacks/resources") { request, context in
            try await uploads.upload(request, token: Self.bearer(request), receiver: receiver).response
        }
    }

    func callback(_ request: Request, context: some RequestContext) async throws -> Response {
        let token = Self.bearer(request)
        // The token first: an anonymous caller learns nothing about bodies, and a wrong one costs no parsing.
        if case .failure(let reply) = receiver.verify(token) {
            return receiver.record(reply, via: .http).response
        }
        let bytes: ByteBuffer
        do {
            bytes = try await request.body.collect(upTo: CallbackRequest.maximumBodyBytes)
        } catch {
            let reply = CallbackReply.bodyTooLarge
            return receiver.record(reply, via: .http).response
        }
        let object: JSONObject
        do {
            object = try CallbackRequest.object(Array(buffer: bytes))
        } catch {
            return receiver.record(CallbackReceiver.reply(for: error), via: .http).response
        }
        if object["token"] != nil {
            let reply = CallbackReply.invalid([
                .init(
                    pointer: "/token", detail: "send the token in the Authorization header, not in the body")
            ])
            return receiver.record(reply, via: .http).response
        }
        return try await receiver.receive(
            token: token, object: object, via: .http,
            trace: request.headers[Self.traceparent].flatMap(TraceContext.init(traceparent:))
        ).response
    }

    static let traceparent = HTTPField.Name("traceparent")!

    /// The bearer credential of the request, if it has one.
    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }
}

extension CallbackReply {
    /// The reply as an HTTP response: JSON, or problem JSON for a refusal.
    var response: Response {
        Response(
            status: .init(code: status),
            headers: [.contentType: isProblem ? ProblemDetails.mediaType : "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: body.jsonBytes())))
    }
}
