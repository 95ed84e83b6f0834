/// The built-in functions; names are case-sensitive.
enum ExpressionFunction: String, Sendable, CaseIterable {
    case contains
    case startsWith
    case endsWith
    case toJSON
    case fromJSON
    case format
    case join

    /// Accepted argument counts (`format` takes the format string and any number of values).
    var arity: ClosedRange<Int> {
        switch self {
        case .contains, .startsWith, .endsWith: return 2...2
        case .toJSON, .fromJSON: return 1...1
        case .format: return 1...Int.max
        case .join: return 1...2
        }
    }

    /// How the expected argument count reads in an error message.
    var arityDescription: String {
        switch self {
        case .contains, .startsWith, .endsWith: return "2 arguments"
        case .toJSON, .fromJSON: return "1 argument"
        case .format: return "at least 1 argument"
        case .join: return "1 or 2 arguments"
        }
    }
}
