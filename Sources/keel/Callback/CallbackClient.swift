import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The callback-gateway's two requests (docs/callbacks.md), one attempt each: the callback itself and the
/// upload of a resource it names. Both carry the bearer token in the Authorization header and nowhere
/// else; neither throws, so the caller decides what to retry.
struct CallbackClient: Sendable {
    let endpoint: CallbackEndpoint
    /// How long a request may go without progress before it counts as unanswered.
    var requestTimeout: TimeInterval = 60

    /// The header a resource's SHA-256 travels in; the gateway refuses content that hashes differently.
    static let contentSHA256Header = "Keel-Content-SHA256"

    /// `POST <url>` with the callback body (`{"status", "output", "resources"}`).
    func postCallback(_ body: Data) async -> CallbackExchange {
        var request = request(to: endpoint.callbacksURL)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        return await exchange { try await URLSession.shared.data(for: request) }
    }

    /// `POST <url>/resources?name=NAME`, the file streamed from disk rather than read into memory.
    func upload(_ resource: CallbackResourceFile, sha256: String) async -> CallbackExchange {
        guard let url = endpoint.resourcesURL(name: resource.name) else {
            return .unanswered(reason: "cannot build the resources URL from \(endpoint.displayURL)")
        }
        var request = request(to: url)
        request.setValue(resource.mediaType, forHTTPHeaderField: "Content-Type")
        request.setValue(sha256, forHTTPHeaderField: Self.contentSHA256Header)
        let file = URL(fileURLWithPath: resource.path)
        return await exchange { try await URLSession.shared.upload(for: request, fromFile: file) }
    }

    private func request(to url: URL) -> URLRequest {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.timeoutInterval = requestTimeout
        request.setValue("Bearer " + endpoint.token, forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let traceparent = endpoint.traceparent {
            request.setValue(traceparent, forHTTPHeaderField: "traceparent")
        }
        return request
    }

    private func exchange(_ send: () async throws -> (Data, URLResponse)) async -> CallbackExchange {
        do {
            let (body, response) = try await send()
            guard let http = response as? HTTPURLResponse else {
                return .unanswered(reason: "not an HTTP answer")
            }
            return .answered(
                status: http.statusCode, body: body,
                retryAfter: Self.retryAfter(http.value(forHTTPHeaderField: "Retry-After")))
        } catch {
            return .unanswered(reason: Self.reason(error))
        }
    }

    /// `Retry-After` in whole seconds (the HTTP-date form is not worth a date parser here).
    static func retryAfter(_ header: String?) -> Duration? {
        guard let header, let seconds = Int(header.trimmingCharacters(in: .whitespaces)), seconds >= 0 else {
            return nil
        }
        return .seconds(min(seconds, 3600))
    }

    /// The transport error's own words, without the request (URLError's user info holds the URL only).
    static func reason(_ error: any Error) -> String {
        guard let error = error as? URLError else { return String(describing: type(of: error)) }
        switch error.code {
        case .cannotConnectToHost: return "connection refused"
        case .timedOut: return "timed out"
        case .cannotFindHost, .dnsLookupFailed: return "unknown host"
        case .networkConnectionLost: return "connection lost"
        case .notConnectedToInternet: return "no network"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
            .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            return "TLS failed (URL error \(error.code.rawValue))"
        default: return "URL error \(error.code.rawValue)"
        }
    }
}
