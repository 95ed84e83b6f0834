import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// A callback-gateway stand-in on 127.0.0.1 in the test process: answers `POST /v1/callbacks` and
/// `POST /v1/callbacks/resources` with scripted answers, in order, and records every request it gets.
final class ScriptedCallbackGateway: Sendable {
    struct Answer: Sendable {
        var status: Int
        var body: String

        static func json(_ status: Int, _ body: String) -> Answer { Answer(status: status, body: body) }
    }

    struct Received: Sendable {
        var path: String
        var query: String
        /// By lower-cased name.
        var headers: [String: String]
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }
    }

    private let callbackAnswers: Mutex<[Answer]>
    private let uploadAnswers: Mutex<[Answer]>
    private let log = Mutex<[Received]>([])

    /// `callbacks` answer the callback requests in turn, `uploads` the resource uploads; once a list is
    /// used up, every further request gets a 500 that says so (and a test that expected fewer fails).
    init(callbacks: [Answer], uploads: [Answer] = []) {
        callbackAnswers = Mutex(callbacks)
        uploadAnswers = Mutex(uploads)
    }

    var received: [Received] { log.withLock { $0 } }

    /// Runs `body` with the gateway's callbacks URL while it listens.
    func serve(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        router.post("v1/callbacks") { request, _ -> Response in try await self.answer(request, upload: false)
        }
        router.post("v1/callbacks/resources") { request, _ -> Response in
            try await self.answer(request, upload: true)
        }
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await application.test(.live) { client in
            let port = try #require(client.port)
            try await body("http://127.0.0.1:\(port)/v1/callbacks")
        }
    }

    private func answer(_ request: Request, upload: Bool) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let received = Received(
            path: request.uri.path, query: request.uri.query ?? "", headers: headers,
            body: Array(body.readableBytesView))
        log.withLock { $0.append(received) }
        let next =
            upload
            ? uploadAnswers.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            : callbackAnswers.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        let answer = next ?? .json(500, #"{"title":"script used up","status":500}"#)
        let type = answer.status >= 400 ? "application/problem+json" : "application/json"
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: [.contentType: type],
            body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
    }
}
