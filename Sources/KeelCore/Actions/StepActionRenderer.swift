/// Evaluates the templates of a step's action with the attempt's context and a source of secrets,
/// remembering every secret value read so the attempt's output can be redacted.
///
/// The step-executor renders with the real secrets before it starts the work; `keel flow shadow`
/// renders with `secretPlaceholders`, so it compares what a step would do without ever reading a secret.
public struct StepActionRenderer: Sendable {
    private var context: ExpressionContext
    /// The values of the secrets read so far, each once.
    public private(set) var usedSecrets: [String] = []
    /// Values masked whether the step read them or not (the executor's secrets and credentials).
    private let alwaysMasked: [String]

    /// - Parameters:
    ///   - context: the attempt's expression context (input, steps' outputs, run fields).
    ///   - secrets: the value of `${{ secrets.NAME }}`, nil when there is none.
    ///   - alwaysMasked: values to mask in what the attempt stores, read or not.
    public init(
        context: ExpressionContext, secrets: @escaping @Sendable (String) -> String?,
        alwaysMasked: [String] = []
    ) {
        var context = context
        context.secretResolver = secrets
        self.context = context
        self.alwaysMasked = alwaysMasked
    }

    /// A renderer that never reads a secret: `${{ secrets.NAME }}` renders as `«secret:NAME»`, the same
    /// text for the same reference, whatever the value.
    public static func withSecretPlaceholders(context: ExpressionContext) -> StepActionRenderer {
        StepActionRenderer(context: context, secrets: { secretPlaceholder($0) })
    }

    /// The stable text a secret reference renders as when secrets are not resolved.
    public static func secretPlaceholder(_ name: String) -> String { "«secret:\(name)»" }

    /// The values an attempt's stored output must never hold: the secrets read so far and `alwaysMasked`.
    public var maskedSecrets: [String] { alwaysMasked + usedSecrets }

    /// A redactor for `maskedSecrets`.
    public var redactor: SecretRedactor { SecretRedactor(secrets: maskedSecrets) }

    /// The template's value as text: a string as is, null as empty, anything else as compact JSON
    /// (the same text `${{ }}` interpolation gives).
    public mutating func text(_ template: String, field: String) throws(StepRenderError) -> String {
        Self.text(of: try value(template, field: field))
    }

    /// A process's `command` and `env`, as the kinds that start one (`run`, `ssh`) render them: each
    /// element a text, the program not empty; errors name `command[i]` or `env.NAME`.
    public mutating func process(command: [String], env: [String: String]) throws(StepRenderError) -> (
        arguments: [String], environment: [String: String]
    ) {
        var arguments: [String] = []
        for (index, element) in command.enumerated() {
            arguments.append(try text(element, field: "command[\(index)]"))
        }
        guard let program = arguments.first, !program.isEmpty else {
            throw StepRenderError(field: "command[0]", message: "the program is empty")
        }
        var environment: [String: String] = [:]
        for name in env.keys.sorted() {
            environment[name] = try text(env[name] ?? "", field: "env.\(name)")
        }
        return (arguments, environment)
    }

    /// The template's value, its JSON type kept when it is a lone `${{ }}`.
    public mutating func value(_ template: String, field: String) throws(StepRenderError) -> JSONValue {
        do {
            let compiled = try ExpressionTemplate(parsing: template, limits: context.limits)
            return try compiled.evaluate(in: context, usedSecrets: &usedSecrets)
        } catch {
            throw StepRenderError(field: field, message: error.description)
        }
    }

    /// `json` with every string in it (not the keys) evaluated as a template.
    public mutating func json(_ json: JSONValue, field: String) throws(StepRenderError) -> JSONValue {
        switch json {
        case .null, .bool, .number:
            return json
        case .string(let template):
            return try value(template, field: field)
        case .array(let elements):
            var rendered: [JSONValue] = []
            rendered.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                rendered.append(try self.json(element, field: "\(field)[\(index)]"))
            }
            return .array(rendered)
        case .object(let members):
            var rendered = JSONObject()
            for (key, member) in members {
                rendered[key] = try self.json(member, field: "\(field).\(key)")
            }
            return .object(rendered)
        }
    }

    public static func text(of value: JSONValue) -> String {
        switch value {
        case .null: ""
        case .string(let string): string
        case .bool, .number, .array, .object: value.jsonString(.compact)
        }
    }
}
