/// The parameter values of a query in binary wire form, bound to `$1`, `$2`, ... in order.
///
/// Values never become SQL text; `description` shows only their count and types.
public struct PGBindings: Sendable, CustomStringConvertible {
    var types: [UInt32] = []
    var lengths: [Int32] = []
    var bytes: [UInt8] = []

    public init() {}

    public var count: Int { types.count }

    public mutating func append<Value: PGEncodable>(_ value: Value) {
        types.append(Value.pgType.oid)
        if value.pgIsNull {
            lengths.append(-1)
            return
        }
        let start = bytes.count
        value.pgEncode(into: &bytes)
        lengths.append(Int32(bytes.count - start))
    }

    public var description: String {
        "PGBindings(\(types.map { PGType(oid: $0).description }.joined(separator: ", ")))"
    }
}
