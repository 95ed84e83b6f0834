/// SQL text with its parameters kept apart: interpolated values become `$1`, `$2`, ... and are sent as
/// bound parameters, so they can never change the statement.
///
/// ```swift
/// let rows = try await connection.query("SELECT name FROM users WHERE id = \(id)")
/// try await connection.execute("TRUNCATE \(unescaped: tableName)")   // trusted SQL text only
/// ```
public struct PGQuery: ExpressibleByStringInterpolation, Sendable, CustomStringConvertible {
    public var sql: String
    public var binds: PGBindings

    public init(_ sql: String, binds: PGBindings = PGBindings()) {
        self.sql = sql
        self.binds = binds
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(stringInterpolation.sql, binds: stringInterpolation.binds)
    }

    /// The SQL text; bound values are not shown.
    public var description: String { sql }

    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        var sql: String
        var binds = PGBindings()

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// Binds a value as the next `$n` parameter.
        public mutating func appendInterpolation<Value: PGEncodable>(_ value: Value) {
            binds.append(value)
            sql += "$\(binds.count)"
        }

        /// Binds an optional value; `nil` is sent as NULL of the wrapped type.
        public mutating func appendInterpolation<Value: PGEncodable>(_ value: Value?) {
            binds.append(value)
            sql += "$\(binds.count)"
        }

        /// Splices trusted SQL text (identifiers, keywords) verbatim. Never pass user input here.
        public mutating func appendInterpolation(unescaped text: String) {
            sql += text
        }
    }
}
