/// Why an expression could not be compiled or evaluated, and where.
///
/// Messages quote only the expression's own source text and the JSON type names of values, never
/// values themselves, so an error can be logged even when the expression touched a secret.
public struct ExpressionError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The class of problem, for callers that react differently to each.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The text is not a well-formed expression or template.
        case syntax
        /// An unknown root name, function, step field or run field.
        case unknownName
        /// A function called with the wrong number of arguments.
        case wrongArity
        /// An operator or function got a value of a type it does not accept.
        case typeMismatch
        /// A function got a value of the right type that it still cannot use (e.g. `fromJSON('{')`).
        case invalidArgument
        /// The secret resolver had no value for a referenced secret.
        case missingSecret
        /// One of the `ExpressionLimits` was exceeded.
        case limitExceeded

        /// True for problems found while parsing, before any evaluation.
        public var isCompileError: Bool {
            switch self {
            case .syntax, .unknownName, .wrongArity: return true
            case .typeMismatch, .invalidArgument, .missingSecret, .limitExceeded: return false
            }
        }
    }

    /// The class of problem.
    public let kind: Kind
    /// What went wrong, e.g. `unexpected ')'`.
    public let message: String
    /// 1-based column, in Unicode scalars, of the offending text in the string that was parsed (the
    /// expression body for `Expression`, the whole string for `ExpressionTemplate`).
    public let column: Int
    /// The offending source text (at most 60 scalars), empty at the end of the input.
    public let text: String

    public init(kind: Kind, message: String, column: Int, text: String) {
        self.kind = kind
        self.message = message
        self.column = column
        self.text = text
    }

    /// `message at column N`, e.g. `unexpected ')' at column 14`.
    public var description: String {
        "\(message) at column \(column)"
    }
}

extension ExpressionError {
    /// Longest excerpt of source text an error quotes.
    static let maximumQuotedLength = 60

    /// Shortens source text for quoting in a message.
    static func excerpt(_ text: some StringProtocol) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > maximumQuotedLength else { return String(text) }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars.prefix(maximumQuotedLength - 1))
        view.append("…")
        return String(view)
    }
}
