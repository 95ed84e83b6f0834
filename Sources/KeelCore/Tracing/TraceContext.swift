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
        let parts = traceparent.trimmingCharacters(in: .whitespaces).split(
            separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, Self.isHex(parts[0]), parts[0] != "ff" else {
            return nil
        }
        // A future version may add fields after the flags; version 00 has exactly four.
        if parts[0] == "00" && parts.count != 4 { return nil }
        guard parts[1].count == 32, Self.isHex(parts[1]), parts[1] != Self.zeros(32),
            parts[2].count == 16, Self.isHex(parts[2]), parts[2] != Self.zeros(16),
            parts[3].count == 2, Self.isHex(parts[3]), let flags = UInt8(parts[3], radix: 16)
        else { return nil }
        self.traceID = String(parts[1])
        self.spanID = String(parts[2])
        self.flags = flags
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

    static func isHex<S: StringProtocol>(_ text: S) -> Bool {
        text.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    static func zeros(_ count: Int) -> String { String(repeating: "0", count: count) }

    static func randomHex<G: RandomNumberGenerator>(bytes: Int, using generator: inout G) -> String {
        while true {
            let values = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
            guard values.contains(where: { $0 != 0 }) else { continue }
            return values.map { byte in
                let hex = String(byte, radix: 16)
                return hex.count == 1 ? "0" + hex : hex
            }.joined()
        }
    }
}
