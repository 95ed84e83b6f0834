extension PGRow {
    /// The row's columns, in order, as a tuple: `let (id, name) = try row.decode((UUID, String).self)`.
    ///
    /// The tuple must name exactly as many types as the row has columns, so a query and its decoding
    /// cannot drift apart silently; each column decodes as `decode(_:at:)` would.
    public func decode<each Column: PGDecodable>(_ types: (repeat each Column).Type) throws -> (
        repeat each Column
    ) {
        var expected = 0
        for _ in repeat (each Column).self { expected += 1 }
        guard expected == count else {
            throw PGError.decoding("expected \(expected) columns; the row has \(count)")
        }
        var column = 0
        func next<Value: PGDecodable>(_ type: Value.Type) throws -> Value {
            defer { column += 1 }
            return try decode(Value.self, at: column)
        }
        return (repeat try next((each Column).self))
    }
}
