/// The outcome of a statement: the rows it returned (if any) and the number of rows it affected.
public struct PGResult: Sendable {
    public var rows: [PGRow]
    /// Rows inserted, updated, deleted, selected, ... as the server reports it; 0 for other commands.
    public var affectedRows: Int
    /// The column names of `rows`, in order.
    public var columnNames: [String]
    /// The server's command tag, e.g. `INSERT 0 1` or `COMMIT` (`ROLLBACK` for a failed transaction).
    public var commandTag: String

    public init(rows: [PGRow], affectedRows: Int, columnNames: [String], commandTag: String) {
        self.rows = rows
        self.affectedRows = affectedRows
        self.columnNames = columnNames
        self.commandTag = commandTag
    }
}

/// The values of a whole result, copied out of libpq in one buffer so rows outlive the C result.
final class PGResultStorage: Sendable {
    let columnNames: [String]
    let columnTypes: [PGType]
    /// All non-NULL values, back to back.
    let bytes: [UInt8]
    /// Start of each value in `bytes`, row-major.
    let offsets: [Int]
    /// Length of each value, -1 for NULL, row-major.
    let lengths: [Int32]

    init(
        columnNames: [String], columnTypes: [PGType], bytes: [UInt8], offsets: [Int], lengths: [Int32]
    ) {
        self.columnNames = columnNames
        self.columnTypes = columnTypes
        self.bytes = bytes
        self.offsets = offsets
        self.lengths = lengths
    }

    func value(row: Int, column: Int) -> PGValue {
        let cell = row * columnNames.count + column
        let length = Int(lengths[cell])
        let type = columnTypes[column]
        guard length >= 0 else { return PGValue(type: type, bytes: nil) }
        let start = offsets[cell]
        return PGValue(type: type, bytes: bytes[start..<(start + length)])
    }
}
