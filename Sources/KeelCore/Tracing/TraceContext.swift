import Foundation

/// A W3C Trace Context (`traceparent`, https://www.w3.org/TR/trace-context/): the trace a run belongs to
/// and the span that caused the current piece of work. Started at the trigger (or taken from its
/// `traceparent`), carried on every message and callback of the run, so one trace covers it across the
/// four services and the remote workers.
public struct TraceContext: Sendable, Hashable, CustomStringConvertible {
    /// 32 lowercase hex digits, not all zero.
    public let traceID: String
    /// 16 lowercase hex digits, not all zero: the span that is the parent of whatever this context starts.
    public let spanID: String
    /// Bit 0: sampled.
    public let flags: UInt8

    /// Parses a version-00 `traceparent` header; nil for anything malformed (the caller then starts a new
    /// trace, as the specification asks).
    public init?(traceparent: String) {
        // Every message of a run carries one, so this is read on the path each step takes: bytes, not
        // Strings. Optional whitespace around the value (spaces, tabs) is allowed by the specification.
        var value = Array(traceparent.utf8)[...]
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
        let parts = value.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, Self.isHex(parts[0]), !parts[0].elementsEqual("ff".utf8)
        else { return nil }
        // A future version may add fields after the flags; version 00 has exactly four.
        if parts[0].elementsEqual("00".utf8) && parts.count != 4 { return nil }
        guard parts[1].count == 32, Self.isHex(parts[1]),
            parts[1].contains(where: { $0 != UInt8(ascii: "0") }),
            parts[2].count == 16, Self.isHex(parts[2]), parts[2].contains(where: { $0 != UInt8(ascii: "0") }),
            parts[3].count == 2, Self.isHex(parts[3])
        else { return nil }
        self.traceID = String(decoding: parts[1], as: UTF8.self)
        self.spanID = String(decoding: parts[2], as: UTF8.self)
        self.flags = parts[3].reduce(0) { $0 << 4 | Self.hexValue($1) }
    }

    init(traceID: String, spanID: String, flags: UInt8) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
    }

    /// A new trace, sampled, with a random root span.
    public static func start<G: RandomNumberGenerator>(using generator: inout G) -> TraceContext {
        TraceContext(
            traceID: randomHex(bytes: 16, using: &generator), spanID: randomHex(bytes: 8, using: &generator),
            flags: 1)
    }

    public static func start() -> TraceContext {
        var generator = SystemRandomNumberGenerator()
        return start(using: &generator)
    }

    /// The same trace, with a new span as the parent of what is sent on.
    public func child<G: RandomNumberGenerator>(using generator: inout G) -> TraceContext {
        TraceContext(traceID: traceID, spanID: Self.randomHex(bytes: 8, using: &generator), flags: flags)
    }

    public func child() -> TraceContext {
        var generator = SystemRandomNumberGenerator()
        return child(using: &generator)
    }

    /// `00-<trace id>-<span id>-<flags>`.
    public var traceparent: String {
        let hex = String(flags, radix: 16)
        return "00-\(traceID)-\(spanID)-\(hex.count == 1 ? "0" + hex : hex)"
    }

    public var description: String { traceparent }

    /// The `traceparent` for a message sent on in the trace `traceparent` names: the same trace, a span
    /// of its own; nil when `traceparent` is absent or malformed (the message then carries none).
    public static func continuing(_ traceparent: String?) -> String? {
        traceparent.flatMap(TraceContext.init(traceparent:))?.child().traceparent
    }

    public var isSampled: Bool { flags & 1 == 1 }

    /// Lowercase hex digits, as the specification requires.
    static func isHex(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The value of one lowercase hex digit (`isHex` has checked it).
    static func hexValue(_ digit: UInt8) -> UInt8 {
        digit <= 0x39 ? digit - 0x30 : digit - 0x61 + 10
    }

    static func randomHex<G: RandomNumberGenerator>(bytes: Int, using generator: inout G) -> String {
        let digits = Array("0123456789abcdef".utf8)
        while true {
            var text: [UInt8] = []
            text.reserveCapacity(bytes * 2)
            var nonZero = false
            for _ in 0..<bytes {
                let byte = UInt8.random(in: 0...255, using: &generator)
                nonZero = nonZero || byte != 0
                text.append(digits[Int(byte >> 4)])
                text.append(digits[Int(byte & 0x0f)])
            }
            if nonZero { return String(decoding: text, as: UTF8.self) }
        }
    }
}
