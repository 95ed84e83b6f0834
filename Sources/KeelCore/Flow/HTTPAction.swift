/// Calls an HTTP endpoint; the step succeeds when the response status matches `success`.
public struct HTTPAction: Sendable, Hashable {
    /// `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE` or `OPTIONS`.
    public var method: String
    /// Template of an absolute `http` or `https` URL.
    public var url: String
    /// Header values are templates.
    public var headers: [String: String]
    /// JSON body; strings inside may be templates.
    public var body: JSONValue?
    /// Statuses that count as success; default `2xx`.
    public var success: [HTTPStatusMatch]
    /// Per-attempt limit for the whole exchange.
    public var timeout: FlowDuration?
    /// What a successful exchange spent, read from the response: a template per dimension that may read
    /// `response` (`{status, headers, body}`, the step's outputs), e.g.
    /// `tokens: "${{ response.body.usage.total_tokens }}"`.
    public var usage: [UsageDimension: String]

    public static let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    public static let defaultSuccess: [HTTPStatusMatch] = [.statusClass(2)]

    public init(
        method: String = "GET", url: String, headers: [String: String] = [:], body: JSONValue? = nil,
        success: [HTTPStatusMatch] = HTTPAction.defaultSuccess, timeout: FlowDuration? = nil,
        usage: [UsageDimension: String] = [:]
    ) {
        self.usage = usage
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.success = success
        self.timeout = timeout
    }
}

/// A status class (`2xx`) or one exact status (`404`).
public enum HTTPStatusMatch: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// 1 to 5, written `1xx` … `5xx`.
    case statusClass(Int)
    /// 100 to 599.
    case status(Int)

    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 3, let first = bytes.first,
            (UInt8(ascii: "1")...UInt8(ascii: "5")).contains(first)
        else {
            return nil
        }
        if bytes[1] == UInt8(ascii: "x") && bytes[2] == UInt8(ascii: "x") {
            self = .statusClass(Int(first - UInt8(ascii: "0")))
        } else if let code = Int(text), (100...599).contains(code) {
            self = .status(code)
        } else {
            return nil
        }
    }

    public func matches(_ status: Int) -> Bool {
        switch self {
        case .statusClass(let hundreds): status / 100 == hundreds
        case .status(let code): status == code
        }
    }

    public var description: String {
        switch self {
        case .statusClass(let hundreds): "\(hundreds)xx"
        case .status(let code): "\(code)"
        }
    }

    public static func < (lhs: HTTPStatusMatch, rhs: HTTPStatusMatch) -> Bool {
        lhs.description < rhs.description
    }
}
