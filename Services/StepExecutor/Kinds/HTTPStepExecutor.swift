import AsyncHTTPClient
import Foundation
import KeelCore
import KeelStore
import Logging
import NIOCore
import NIOHTTP1

/// `http`: sends the step's request and turns the response into an outcome.
///
/// The request carries the rendered URL, headers and JSON body (`Content-Type: application/json`) and
/// an `Idempotency-Key` header with the attempt's key, so a receiver can recognise a retried attempt, and
/// the attempt's `traceparent`, so the receiver's work joins the run's trace.
/// A status matching `success` succeeds with `{status, headers, body}`; 5xx, 408, 429 and network
/// errors fail as `transient`, other statuses as `permanent`, passing the timeout as `timeout`.
/// Header values and bodies are never logged.
struct HTTPStepExecutor: StepKindExecutor {
    /// Per-attempt limit when the action sets none.
    static let defaultTimeout = FlowDuration(milliseconds: 30_000)
    /// Largest response body accepted; a bigger one fails the attempt as `permanent`.
    static let maximumBodySize = 16 << 20
    /// Response headers copied into the outputs (lower-cased names).
    static let keptHeaders = ["content-type", "location", "etag"]

    let resources: ResourceStore
    let secrets: SecretSource
    let limits: ResourceLimits
    let logger: Logger
    /// The process's client: connections pooled per host, TLS by swift-nio-ssl with the system's roots,
    /// redirects followed (at most 5, no cycles).
    var client: HTTPClient = Self.processClient

    /// One client for the process's life (a global is never deinitialised, so it needs no shutdown). A
    /// refused connection fails the attempt at once, as `transient`, for the step's retry policy to
    /// decide, instead of being retried inside the client until the attempt's timeout.
    static let processClient: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    func execute(_ work: StepWork) async -> StepOutcome {
        guard case .http(let action) = work.step.kind else {
            return .failed(.permanent, message: "step '\(work.step.id)' is not an http step")
        }
        var renderer = StepActionRenderer(context: work.context, secrets: secrets)
        let request: HTTPClientRequest
        do {
            request = try Self.request(
                for: action, idempotencyKey: work.idempotencyKey, traceparent: work.traceparent,
                renderer: &renderer)
        } catch {
            return .failed(.permanent, message: renderer.redactor.redacting(error.description))
        }
        let redactor = renderer.redactor
        let logger = logger.forRun(work.logContext)
        let timeout = action.timeout ?? Self.defaultTimeout
        let result = await HTTPExchange.perform(
            request, on: client, timeout: timeout.duration, maximumBodySize: Self.maximumBodySize)
        let outcome: StepOutcome
        switch result {
        case .cancelled:
            outcome = .failed(.cancelled, message: "cancelled while waiting for the response")
        case .timedOut:
            outcome = .failed(.timeout, message: "no complete response within \(timeout)")
        case .bodyTooLarge:
            outcome = .failed(
                .permanent, message: "the response body is larger than \(Self.maximumBodySize) bytes")
        case .failed(let error):
            outcome = .failed(Self.errorClass(of: error), message: "request failed: \(Self.describe(error))")
        case .response(let status, let headers, let body):
            logger.debug("http step got a response", metadata: ["status": "\(status)"])
            outcome = await self.outcome(
                status: status, headers: headers, body: body, action: action, work: work, redactor: redactor)
        }
        switch outcome {
        case .succeeded: return outcome
        case .failed(let errorClass, let message):
            logger.debug("http step failed", metadata: ["error_class": "\(errorClass.rawValue)"])
            return .failed(errorClass, message: redactor.redacting(message))
        case .interrupted(let reason):
            return .interrupted(reason: redactor.redacting(reason))
        }
    }

    /// The request the action describes, its templates evaluated.
    static func request(
        for action: HTTPAction, idempotencyKey: String, traceparent: String? = nil,
        renderer: inout StepActionRenderer
    ) throws(StepRenderError) -> HTTPClientRequest {
        let rendered = try RenderedHTTPRequest(action, renderer: &renderer)
        var request = HTTPClientRequest(url: rendered.url)
        request.method = HTTPMethod(rawValue: rendered.method)
        for header in rendered.headers {
            request.headers.replaceOrAdd(name: header.name, value: header.value)
        }
        if let body = rendered.body {
            request.body = .bytes(ByteBuffer(bytes: body.jsonBytes(.compact)))
        }
        request.headers.replaceOrAdd(name: "Idempotency-Key", value: idempotencyKey)
        // The receiver continues the run's trace (W3C Trace Context); the flow cannot override it.
        if let traceparent { request.headers.replaceOrAdd(name: "traceparent", value: traceparent) }
        return request
    }

    /// The outcome a response means: its status against `success`, then the outputs of a success.
    private func outcome(
        status: Int, headers responseHeaders: HTTPHeaders, body: [UInt8], action: HTTPAction, work: StepWork,
        redactor: SecretRedactor
    ) async -> StepOutcome {
        guard action.success.contains(where: { $0.matches(status) }) else {
            let expected = action.success.sorted().map(\.description).joined(separator: ", ")
            let errorClass: ErrorClass =
                status >= 500 || status == 408 || status == 429 ? .transient : .permanent
            return .failed(errorClass, message: "HTTP status \(status), expected \(expected)")
        }
        var headers = JSONObject()
        for name in Self.keptHeaders {
            if let value = responseHeaders.first(name: name) {
                headers[name] = .string(redactor.redacting(value))
            }
        }
        let producer: ResourceProducer? = ResourceProducer(
            runID: work.runID, step: work.step.id, attempt: work.attempt)
        let bodyValue: JSONValue
        do {
            bodyValue = try await self.body(
                body, contentType: responseHeaders.first(name: "content-type"), redactor: redactor,
                name: "\(work.step.id).\(work.attempt).body", producer: producer)
        } catch {
            return .interrupted(reason: "cannot store the response body: \(error)")
        }
        return .succeeded(outputs: [
            "status": .number(JSONNumber(status)), "headers": .object(headers), "body": bodyValue,
        ])
    }

    /// The body as an output: JSON when the response says it is JSON and parses, else text (null when
    /// empty); stored as a resource when over the inline limit. Secrets are masked either way.
    private func body(
        _ bytes: [UInt8], contentType: String?, redactor: SecretRedactor, name: String,
        producer: ResourceProducer?
    ) async throws -> JSONValue {
        guard !bytes.isEmpty else { return .null }
        let mediaType = Self.mediaType(contentType)
        if let mediaType, mediaType == "application/json" || mediaType.hasSuffix("+json"),
            let json = try? JSONValue(parsing: bytes)
        {
            return try await resources.inlineOrStore(
                json.redacted(with: redactor), limits: limits, name: name, producer: producer)
        }
        let text = redactor.redacting(String(decoding: bytes, as: UTF8.self))
        let value = JSONValue.string(text)
        guard limits.exceedsInlineLimit(value) else { return value }
        let stored = mediaType.flatMap { ResourceMediaType.isValid($0) ? $0 : nil } ?? "text/plain"
        let record = try await resources.put(
            bytes: Array(text.utf8),
            description: ResourceDescription(name: name, mediaType: stored, producer: producer))
        return ResourceStore.referenceObject(record.reference, size: record.size, mediaType: record.mediaType)
    }

    /// `type/subtype` of a Content-Type, lower-cased, without parameters.
    static func mediaType(_ contentType: String?) -> String? {
        guard let contentType else { return nil }
        let essence = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        let trimmed = essence.trimmingCharacters(in: .whitespaces).lowercased()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The network and the peer may do better next time (`transient`); a request the client refused to send
    /// as it is (a bad URL or header the template rendered) will not (`permanent`).
    static func errorClass(of error: any Error) -> ErrorClass {
        guard let error = error as? HTTPClientError else { return .transient }
        let passing: [HTTPClientError] = [
            .remoteConnectionClosed, .readTimeout, .writeTimeout, .connectTimeout, .deadlineExceeded,
            .redirectLimitReached, .redirectCycleDetected,
        ]
        return passing.contains(error) ? .transient : .permanent
    }

    /// A network error as text that names the problem, not the URL (which may carry a secret).
    static func describe(_ error: any Error) -> String {
        let kind = String(describing: type(of: error))
        if kind == "NIOConnectionError" || (error as? HTTPClientError) == .connectTimeout {
            return "cannot connect to the host"
        }
        if let error = error as? IOError, [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH].contains(error.errnoCode)
        {
            return "cannot connect to the host"
        }
        // swift-nio-ssl's errors (NIOSSLError, BoringSSLError), named without depending on its module.
        if kind.hasPrefix("NIOSSL") || kind.hasPrefix("BoringSSL") { return "TLS failed" }
        guard let error = error as? HTTPClientError else { return kind }
        if [.remoteConnectionClosed, .readTimeout, .writeTimeout].contains(error) {
            return "the connection was lost"
        }
        if [.redirectLimitReached, .redirectCycleDetected].contains(error) { return "bad redirect" }
        return "bad response from the server"
    }
}
