import KeelService

/// The bounds the API document states and the generated server does not check (it decodes types, not
/// `minimum` or `maxLength`): each violation a 400 naming the field.
enum Limits {
    static func check(_ value: Int, _ field: String, range: ClosedRange<Int> = 1...500, inQuery: Bool = false)
        throws -> Int
    {
        guard range.contains(value) else {
            throw invalid(
                field, "expected \(range.lowerBound) to \(range.upperBound); got \(value)", inQuery: inQuery)
        }
        return value
    }

    static func text(_ value: String, _ field: String, maximum: Int, inQuery: Bool = false) throws {
        guard !value.isEmpty else { throw invalid(field, "expected a non-empty string", inQuery: inQuery) }
        guard value.count <= maximum else {
            throw invalid(
                field, "expected at most \(maximum) characters; got \(value.count)", inQuery: inQuery)
        }
        guard !value.unicodeScalars.contains("\u{0}") else {
            throw invalid(field, "holds the character U+0000, which cannot be stored", inQuery: inQuery)
        }
    }

    /// A 400 naming the field: a JSON Pointer into the body (`/reason`), or a query item's name
    /// (`limit`), as the approvals API names its query items.
    static func invalid(_ field: String, _ detail: String, inQuery: Bool = false) -> ProblemDetails {
        let pointer = inQuery ? field : "/" + field
        return ProblemDetails(
            status: .badRequest, type: "/problems/invalid-request", title: "Invalid request",
            detail: "\(field): \(detail)", errors: [.init(pointer: pointer, detail: detail)])
    }
}
