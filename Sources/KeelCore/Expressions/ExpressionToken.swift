/// One lexical unit of an expression, with its position in the expression body.
struct ExpressionToken: Sendable {
    enum Kind: Sendable, Equatable {
        case word(String)
        case string(String)
        case number(JSONNumber)
        case leftParen, rightParen, leftBracket, rightBracket, dot, comma
        case not, equal, notEqual, less, lessOrEqual, greater, greaterOrEqual, and, or
        case end
    }

    let kind: Kind
    /// 0-based index of the first scalar of the token in the body.
    let start: Int
    /// 0-based index one past the last scalar of the token.
    let end: Int
}
