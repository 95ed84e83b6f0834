/// One problem in a flow definition, pointing at the file, line, column and field path.
///
/// `description` reads `flows/deploy.yaml:12:7: steps[2].retry.backoff: expected one of fixed,
/// exponential; got 'linear'`. Quoted values are cut to 60 characters; flow files hold no secrets
/// (they reference them through `${{ secrets.NAME }}`, whose values never reach the parser).
public struct FlowError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is, for programs; `message` is for people.
    public enum Code: String, Sendable, Hashable, CaseIterable, Codable {
        case yamlSyntax = "yaml_syntax"
        case unsupportedYAML = "unsupported_yaml"
        case limitExceeded = "limit_exceeded"
        case duplicateKey = "duplicate_key"
        case unknownField = "unknown_field"
        case wrongType = "wrong_type"
        case missingField = "missing_field"
        case invalidValue = "invalid_value"
        case invalidName = "invalid_name"
        case invalidDuration = "invalid_duration"
        case stepKind = "step_kind"
        case duplicateStepID = "duplicate_step_id"
        case unknownStep = "unknown_step"
        case cycle = "cycle"
        case invalidSchema = "invalid_schema"
        case invalidExpression = "invalid_expression"
    }

    public let code: Code
    /// The file name given to the parser.
    public let file: String
    /// 1-based line and column (Unicode scalars); `.unknown` (0:0) for definitions read from JSON.
    public let position: SourcePosition
    /// The field, as `steps[2].retry.backoff`; empty for the document itself.
    public let path: String
    /// What was expected and what was found.
    public let message: String

    public init(code: Code, file: String, position: SourcePosition, path: String, message: String) {
        self.code = code
        self.file = file
        self.position = position
        self.path = path
        self.message = message
    }

    public var line: Int { position.line }
    public var column: Int { position.column }

    public var description: String {
        var text = file
        if position != .unknown { text += ":\(position.line):\(position.column)" }
        text += ": "
        if !path.isEmpty { text += path + ": " }
        return text + message
    }

    /// A value for a message: at most 60 characters, control characters escaped.
    static func quoted(_ value: String) -> String {
        var result = ""
        var count = 0
        for scalar in value.unicodeScalars {
            if count == 60 {
                result += "…"
                break
            }
            count += 1
            if scalar.value < 0x20 || scalar.value == 0x7F {
                result +=
                    scalar == "\n"
                    ? "\\n" : scalar == "\t" ? "\\t" : "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// Every problem found in one flow definition, in source order.
public struct FlowErrors: Error, Sendable, Hashable, CustomStringConvertible, RandomAccessCollection {
    public let errors: [FlowError]

    public init(_ errors: [FlowError]) {
        self.errors = errors.enumerated().sorted {
            ($0.element.position, $0.offset) < ($1.element.position, $1.offset)
        }.map(\.element)
    }

    public var startIndex: Int { errors.startIndex }
    public var endIndex: Int { errors.endIndex }
    public subscript(position: Int) -> FlowError { errors[position] }

    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
