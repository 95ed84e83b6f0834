/// One privilege on one table, as `GRANT` spells it.
public enum TablePrivilege: Hashable, Sendable {
    case select
    case insert
    case delete
    /// `UPDATE` of the named columns only, or of every column when `columns` is nil.
    case update(columns: [String]?)

    /// `UPDATE` of every column.
    public static let update = TablePrivilege.update(columns: nil)

    /// The privilege as it appears in a `GRANT` list, e.g. `UPDATE (status, finished_at)`.
    var sql: String {
        switch self {
        case .select: "SELECT"
        case .insert: "INSERT"
        case .delete: "DELETE"
        case .update(nil): "UPDATE"
        case .update(let columns?): "UPDATE (\(columns.joined(separator: ", ")))"
        }
    }
}
