public import Foundation
public import OpenAPIRuntime

/// Dates as the document's `format: date-time` means them (RFC 3339): written with fractional seconds,
/// so nothing Keel recorded is rounded away; read with or without them, in any offset. The runtime's own
/// transcoders each accept only one of the two forms.
public struct RFC3339DateTranscoder: DateTranscoder {
    public init() {}

    public func encode(_ date: Date) throws -> String {
        date.formatted(Self.fractional)
    }

    public func decode(_ text: String) throws -> Date {
        if let date = try? Self.fractional.parse(text) { return date }
        if let date = try? Self.whole.parse(text) { return date }
        throw DecodingError.dataCorrupted(
            .init(
                codingPath: [], debugDescription: "expected an RFC 3339 date-time, e.g. 2026-12-07T09:30:00Z")
        )
    }

    private static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let whole = Date.ISO8601FormatStyle()
}

extension Configuration {
    /// The configuration both ends of the operators' API use.
    public static var keel: Configuration { Configuration(dateTranscoder: RFC3339DateTranscoder()) }
}
