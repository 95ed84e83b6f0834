import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One webhook POST: bounded as a whole (connect, send, response head and the excerpt of the body
/// kept), redirects not followed, and what came back reduced to a status, an error class and a short
/// printable excerpt — never the error's text, which can quote the URL.
enum WebhookPost {
    /// How the exchange ended.
    struct Outcome: Sendable {
        var status: Int?
        var errorClass: String?
        var excerpt: String?
    }

    /// Bytes of the response body read (the rest is discarded) and characters kept of them.
    static let excerptBytes = 1024
    static let excerptCharacters = 200

    /// The process's client: redirects are not followed (a receiver's 3xx is its answer, retried like
    /// an error), connections are not retried inside the client (the delivery's own retries decide).
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    static func perform(_ request: HTTPClientRequest, timeout: Duration) async -> Outcome {
        let ended = await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                do {
                    let response = try await client.execute(
                        request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
                    var kept: [UInt8] = []
                    for try await chunk in response.body {
                        kept.append(contentsOf: chunk.readableBytesView.prefix(excerptBytes - kept.count))
                        if kept.count >= excerptBytes { break }
                    }
                    return Outcome(status: Int(response.status.code), excerpt: excerpt(kept))
                } catch let error as HTTPClientError where error == .deadlineExceeded {
                    return Outcome(errorClass: "timeout")
                } catch {
                    return Task.isCancelled ? nil : Outcome(errorClass: errorClass(of: error))
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : Outcome(errorClass: "timeout")
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        return ended ?? Outcome(errorClass: "cancelled")
    }

    /// The start of a response body as printable text: control characters (NUL included) become
    /// spaces, invalid UTF-8 becomes U+FFFD, at most `excerptCharacters`; nil when empty.
    static func excerpt(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        var result = ""
        for scalar in text.unicodeScalars.prefix(excerptCharacters) {
            let control = scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
            result.unicodeScalars.append(control ? " " : scalar)
        }
        let trimmed = result.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// A class of network error, named without the error's own text.
    static func errorClass(of error: any Error) -> String {
        let kind = String(describing: type(of: error))
        if kind == "NIOConnectionError" { return "cannot connect" }
        if let error = error as? IOError,
            [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, ECONNRESET].contains(error.errnoCode)
        {
            return "cannot connect"
        }
        if kind.hasPrefix("NIOSSL") || kind.hasPrefix("BoringSSL") { return "tls" }
        guard let error = error as? HTTPClientError else { return "network error" }
        if error == .connectTimeout { return "cannot connect" }
        if [.readTimeout, .writeTimeout].contains(error) { return "timeout" }
        if error == .remoteConnectionClosed { return "connection lost" }
        if [.invalidURL, .emptyHost, .emptyScheme, .unsupportedScheme("")].contains(error) {
            return "invalid url"
        }
        return "bad response"
    }
}
