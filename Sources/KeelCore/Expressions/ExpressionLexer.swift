/// Splits an expression body into tokens; every lexical error carries the offending text's position.
struct ExpressionLexer {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    /// Added to positions to make columns relative to an enclosing template.
    private let columnOffset: Int

    init(scalars: [Unicode.Scalar], columnOffset: Int) {
        self.scalars = scalars
        self.columnOffset = columnOffset
    }

    /// All tokens, ending with `.end`.
    static func tokenize(_ scalars: [Unicode.Scalar], columnOffset: Int) throws(ExpressionError)
        -> [ExpressionToken]
    {
        var lexer = ExpressionLexer(scalars: scalars, columnOffset: columnOffset)
        var tokens: [ExpressionToken] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        let index = position + offset
        return index < scalars.count ? scalars[index] : nil
    }

    private func text(_ start: Int, _ end: Int) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[start..<min(end, scalars.count)])
        return String(view)
    }

    private func syntaxError(_ message: String, start: Int, end: Int) -> ExpressionError {
        ExpressionError(
            kind: .syntax, message: message, column: columnOffset + start + 1,
            text: ExpressionError.excerpt(text(start, end)))
    }

    static func isWordStart(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || scalar == "_")
    }

    static func isWordContinuation(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII
            && (scalar.properties.isAlphabetic || scalar == "_" || scalar == "-"
                || ("0"..."9").contains(scalar))
    }

    private static func isDigit(_ scalar: Unicode.Scalar?) -> Bool {
        guard let scalar else { return false }
        return ("0"..."9").contains(scalar)
    }

    private mutating func next() throws(ExpressionError) -> ExpressionToken {
        while let scalar = peek(), scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
            position += 1
        }
        let start = position
        guard let scalar = peek() else { return ExpressionToken(kind: .end, start: start, end: start) }

        func single(_ kind: ExpressionToken.Kind) -> ExpressionToken {
            position += 1
            return ExpressionToken(kind: kind, start: start, end: position)
        }
        func pair(
            _ second: Unicode.Scalar, _ both: ExpressionToken.Kind, else one: ExpressionToken.Kind?
        )
            throws(ExpressionError) -> ExpressionToken
        {
            if peek(1) == second {
                position += 2
                return ExpressionToken(kind: both, start: start, end: position)
            }
            guard let one else {
                let spelled = "\(scalar)\(second)"
                throw syntaxError(
                    "unexpected '\(scalar)' (did you mean '\(spelled)'?)", start: start, end: start + 1)
            }
            return single(one)
        }

        switch scalar {
        case "(": return single(.leftParen)
        case ")": return single(.rightParen)
        case "[": return single(.leftBracket)
        case "]": return single(.rightBracket)
        case ".": return single(.dot)
        case ",": return single(.comma)
        case "!": return try pair("=", .notEqual, else: .not)
        case "=": return try pair("=", .equal, else: nil)
        case "<": return try pair("=", .lessOrEqual, else: .less)
        case ">": return try pair("=", .greaterOrEqual, else: .greater)
        case "&": return try pair("&", .and, else: nil)
        case "|": return try pair("|", .or, else: nil)
        case "'": return try string()
        case "-", "0"..."9": return try number()
        default:
            if Self.isWordStart(scalar) { return word() }
            throw syntaxError("unexpected character '\(scalar)'", start: start, end: start + 1)
        }
    }

    private mutating func word() -> ExpressionToken {
        let start = position
        position += 1
        while let scalar = peek(), Self.isWordContinuation(scalar) { position += 1 }
        return ExpressionToken(kind: .word(text(start, position)), start: start, end: position)
    }

    private mutating func string() throws(ExpressionError) -> ExpressionToken {
        let start = position
        position += 1
        var value = String.UnicodeScalarView()
        while true {
            guard let scalar = peek() else {
                throw syntaxError("unterminated string", start: start, end: position)
            }
            position += 1
            if scalar == "'" {
                if peek() == "'" {
                    value.append("'")
                    position += 1
                    continue
                }
                return ExpressionToken(kind: .string(String(value)), start: start, end: position)
            }
            value.append(scalar)
        }
    }

    /// JSON number syntax; the maximal run of number-like characters is taken, then validated.
    private mutating func number() throws(ExpressionError) -> ExpressionToken {
        let start = position
        if peek() == "-" { position += 1 }
        while let scalar = peek() {
            if Self.isDigit(scalar) || scalar == "." {
                position += 1
            } else if scalar == "e" || scalar == "E" {
                position += 1
                if peek() == "+" || peek() == "-" { position += 1 }
            } else {
                break
            }
        }
        while let scalar = peek(), Self.isWordContinuation(scalar) { position += 1 }
        let spelled = text(start, position)
        guard let number = JSONNumber(jsonText: spelled) else {
            throw syntaxError(
                "invalid number '\(ExpressionError.excerpt(spelled))'", start: start, end: position)
        }
        return ExpressionToken(kind: .number(number), start: start, end: position)
    }
}
