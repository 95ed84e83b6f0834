/// Why a text is not JSON, and where: what people need to fix a hand-written flow file.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line of the offending character.
    public let line: Int
    /// 1-based column (in Unicode scalars) of the offending character.
    public let column: Int
    /// 0-based byte offset of the offending character in the UTF-8 input.
    public let offset: Int
    /// What was wrong or what was expected, e.g. `expected ',' or '}' after an object member, found 'x'`.
    public let message: String

    public init(line: Int, column: Int, offset: Int, message: String) {
        self.line = line
        self.column = column
        self.offset = offset
        self.message = message
    }

    public var description: String {
        "invalid JSON at line \(line), column \(column): \(message)"
    }
}
