import Foundation

/// An `http` action with its templates evaluated: the request the step sends, before the headers Keel
/// adds per attempt (`Idempotency-Key`, `traceparent`).
public struct RenderedHTTPRequest: Sendable, Hashable {
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String
    }

    public var method: String
    /// An absolute `http` or `https` URL.
    public var url: String
    /// The action's headers in name order, and `Content-Type: application/json` for a body when the
    /// action sets no content type.
    public var headers: [Header]
    /// The JSON body, sent compact.
    public var body: JSONValue?

    /// Evaluates every template of `action`; the first that fails, or a URL or header value that
    /// cannot be sent, is reported with its field.
    public init(_ action: HTTPAction, renderer: inout StepActionRenderer) throws(StepRenderError) {
        let text = try renderer.text(action.url, field: "url")
        guard let parsed = URL(string: text), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", parsed.host?.isEmpty == false
        else {
            throw StepRenderError(field: "url", message: "not an absolute http or https URL")
        }
        method = action.method
        url = text
        headers = []
        for name in action.headers.keys.sorted() {
            let value = try renderer.text(action.headers[name] ?? "", field: "headers.\(name)")
            // A header value is one line: a rendered CR or LF would start a header of its own.
            guard !value.contains(where: \.isNewline) else {
                throw StepRenderError(
                    field: "headers.\(name)", message: "a header value cannot hold a line break")
            }
            headers.append(Header(name: name, value: value))
        }
        if let template = action.body {
            body = try renderer.json(template, field: "body")
            if !action.headers.keys.contains(where: { $0.lowercased() == "content-type" }) {
                headers.append(Header(name: "Content-Type", value: "application/json"))
            }
        }
    }
}
