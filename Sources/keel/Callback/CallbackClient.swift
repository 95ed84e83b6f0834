import AsyncHTTPClient
import Foundation
import KeelStore
import NIOCore

/// The callback-gateway's two requests (docs/callbacks.md), one attempt each: the callback itself and the
/// upload of a resource it names. Both carry the bearer token in the Authorization header and nowhere
/// else; neither throws, so the caller decides what to retry.
struct CallbackClient: Sendable {
    let endpoint: CallbackEndpoint
    /// How long one request may take, an upload included; a connection without progress for a minute
    /// counts as lost sooner (`CLIHTTPClient`).
    var requestTimeout: Duration = .seconds(3600)

    /// The header a resource's SHA-256 travels in; the gateway refuses content that hashes differently.
    static let contentSHA256Header = "Keel-Content-SHA256"

    /// `POST <url>` with the callback body (`{"status", "output", "resources"}`).
    func postCallback(_ body: Data) async -> CallbackExchange {
        var request = request(to: endpoint.callbacksURL)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: Array(body)))
        return await exchange(request)
    }

    /// `POST <url>/resources?name=NAME`, the file streamed from disk rather than read into memory.
    func upload(_ resource: CallbackResourceFile, sha256: String) async -> CallbackExchange {
        guard let url = endpoint.resourcesURL(name: resource.name) else {
            return .unanswered(reason: "cannot build the resources URL from \(endpoint.displayURL)")
        }
        let path = resource.path
        guard
            let size = try? await BlockingIO.run({
                (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
            }) ?? nil
        else { return .unanswered(reason: "cannot read \(resource.name)") }
        var request = request(to: url)
        request.headers.add(name: "Content-Type", value: resource.mediaType)
        request.headers.add(name: Self.contentSHA256Header, value: sha256)
        request.body = .stream(FileChunks(path: path).map { ByteBuffer(bytes: $0) }, length: .known(size))
        return await exchange(request)
    }

    private func request(to url: URL) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer " + endpoint.token)
        request.headers.add(name: "Accept", value: "application/json")
        if let traceparent = endpoint.traceparent {
            request.headers.add(name: "traceparent", value: traceparent)
        }
        return request
    }

    private func exchange(_ request: HTTPClientRequest) async -> CallbackExchange {
        do {
            let answer = try await CLIHTTPClient.send(request, timeout: requestTimeout)
            return .answered(
                status: answer.status, body: answer.body,
                retryAfter: Self.retryAfter(answer.headers.first(name: "Retry-After")))
        } catch {
            return .unanswered(reason: CLIHTTPClient.reason(error))
        }
    }

    /// `Retry-After` in whole seconds (the HTTP-date form is not worth a date parser here).
    static func retryAfter(_ header: String?) -> Duration? {
        guard let header, let seconds = Int(header.trimmingCharacters(in: .whitespaces)), seconds >= 0 else {
            return nil
        }
        return .seconds(min(seconds, 3600))
    }

}
