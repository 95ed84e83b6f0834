import Foundation
public import HTTPTypes
public import Hummingbird

/// An RFC 9457 problem: the one error shape every Keel HTTP endpoint answers with.
///
/// `detail` is written for the caller; it must never carry a secret, a stack trace or another
/// caller's data. `errors` lists field-level problems (which field, what was expected) for bad bodies.
public struct ProblemDetails: HTTPResponseError, Codable, Sendable, Equatable {
    public struct FieldError: Codable, Sendable, Equatable {
        /// JSON Pointer into the request body, e.g. `/decision`.
        public var pointer: String
        public var detail: String
        public init(pointer: String, detail: String) {
            self.pointer = pointer
            self.detail = detail
        }
    }

    /// A URI naming the kind of problem; relative URIs under `/problems/` are documented in the README.
    public var type: String
    public var title: String
    public var statusCode: Int
    public var detail: String?
    public var instance: String?
    public var errors: [FieldError]?

    public var status: HTTPResponse.Status { .init(code: statusCode) }

    public init(
        status: HTTPResponse.Status, type: String? = nil, title: String? = nil, detail: String? = nil,
        instance: String? = nil, errors: [FieldError]? = nil
    ) {
        self.type = type ?? "about:blank"
        self.title = title ?? status.reasonPhrase
        self.statusCode = status.code
        self.detail = detail
        self.instance = instance
        self.errors = errors
    }

    enum CodingKeys: String, CodingKey {
        case type, title, detail, instance, errors
        case statusCode = "status"
    }

    public static let mediaType = "application/problem+json"

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = try encoder.encode(self)
        return Response(
            status: status,
            headers: [.contentType: Self.mediaType],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
