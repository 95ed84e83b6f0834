/// One row of a result. Rows share their result's storage, so keeping a row keeps its result alive.
public struct PGRow: Sendable {
    let storage: PGResultStorage
    let index: Int

    /// The number of columns.
    public var count: Int { storage.columnNames.count }

    /// The column names, in order.
    public var columnNames: [String] { storage.columnNames }

    /// The raw value at a column, for custom decoding.
    public func value(at column: Int) throws -> PGValue {
        guard column >= 0, column < storage.columnNames.count else {
            throw PGError.decoding(
                "column index \(column) is out of range (\(storage.columnNames.count) columns)")
        }
        return storage.value(row: index, column: column)
    }

    public func decode<T: PGDecodable>(_ type: T.Type, at column: Int) throws -> T {
        let value = try value(at: column)
        do {
            return try T(pgValue: value)
        } catch let error as PGError {
            throw PGError.decoding("column \(column) (\(storage.columnNames[column])): \(error.message)")
        }
    }

    public func decode<T: PGDecodable>(_ type: T.Type, column name: String) throws -> T {
        guard let column = storage.columnNames.firstIndex(of: name) else {
            throw PGError.decoding("no column named \(name)")
        }
        return try decode(type, at: column)
    }
}
