import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// What one request of the CLI got back.
struct CLIHTTPAnswer: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data
}

/// The CLI's HTTP: AsyncHTTPClient on SwiftNIO (TLS by swift-nio-ssl), one request at a time, each with
/// a deadline for the whole exchange and a bound on the answer kept in memory. Errors keep to what went
/// wrong, never the URL or the headers, which may carry a token.
enum CLIHTTPClient {
    /// Largest answer read; the CLI talks to Keel's own services, whose answers are far smaller.
    static let maximumAnswerSize = 64 << 20

    /// The process's client, never shut down: the process ends instead. A connection that makes no
    /// progress for a minute counts as lost, whatever the deadline.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(60))
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    static func send(_ request: HTTPClientRequest, timeout: Duration) async throws -> CLIHTTPAnswer {
        try await withThrowingTaskGroup(of: CLIHTTPAnswer?.self) { group in
            group.addTask {
                let response = try await client.execute(
                    request, timeout: .seconds(Int64(timeout.components.seconds)))
                let body = try await response.body.collect(upTo: maximumAnswerSize)
                return CLIHTTPAnswer(
                    status: Int(response.status.code), headers: response.headers,
                    body: Data(body.readableBytesView))
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let answer = first else {
                throw HTTPClientError.deadlineExceeded
            }
            return answer
        }
    }

    /// The transport error's own words.
    static func reason(_ error: any Error) -> String {
        let kind = String(describing: type(of: error))
        if let error = error as? HTTPClientError {
            if [.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout].contains(error) {
                return "timed out"
            }
            if error == .remoteConnectionClosed { return "connection lost" }
            return "bad answer"
        }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED { return "connection refused" }
        if kind == "NIOConnectionError" {
            // NIO's connection error describes its DNS and connect failures without the request.
            let text = String(describing: error)
            return text.contains("dns") || text.contains("resolution") ? "unknown host" : "connection refused"
        }
        if kind.hasPrefix("NIOSSL") || kind.hasPrefix("BoringSSL") { return "TLS failed" }
        if error is NIOTooManyBytesError { return "answer too large" }
        return kind
    }
}
