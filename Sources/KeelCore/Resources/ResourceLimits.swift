/// The inline rule (DESIGN §5, invariant 8): a JSON value whose canonical encoding is larger than the
/// inline limit never rides a message or the history; it is stored as a resource and replaced by a
/// reference. At the limit exactly, it stays inline.
public struct ResourceLimits: Sendable, Hashable {
    /// Largest canonical JSON encoding, in bytes, that stays inline.
    public var inlineLimit: Int

    public init(inlineLimit: Int = ResourceLimits.defaultInlineLimit) {
        self.inlineLimit = inlineLimit
    }

    /// 64 KiB.
    public static let defaultInlineLimit = 65_536

    public static let `default` = ResourceLimits()

    /// The canonical bytes of `value` when they exceed the limit (the content to store), else nil (keep
    /// the value inline).
    public func overflow(of value: JSONValue) -> [UInt8]? {
        let bytes = value.jsonBytes(.canonical)
        return bytes.count > inlineLimit ? bytes : nil
    }

    /// Whether `value` must become a resource.
    public func exceedsInlineLimit(_ value: JSONValue) -> Bool {
        overflow(of: value) != nil
    }
}
