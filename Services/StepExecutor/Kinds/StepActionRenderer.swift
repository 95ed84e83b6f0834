import KeelCore

/// Evaluates the templates of a step's action with the attempt's context and the executor's secrets,
/// remembering every secret value read so the attempt's output can be redacted.
struct StepActionRenderer {
    private var context: ExpressionContext
    /// The values of the secrets read so far, each once.
    private(set) var usedSecrets: [String] = []
    /// Every secret of the executor and its own credentials, masked whether the step read them or not.
    private let alwaysMasked: [String]

    init(context: ExpressionContext, secrets: SecretSource) {
        var context = context
        context.secretResolver = secrets.resolver
        self.context = context
        alwaysMasked = secrets.masked
    }

    /// The values an attempt's stored output must never hold: the secrets read so far and `alwaysMasked`.
    var maskedSecrets: [String] { alwaysMasked + usedSecrets }

    /// A redactor for `maskedSecrets`.
    var redactor: SecretRedactor { SecretRedactor(secrets: maskedSecrets) }

    /// The template's value as text: a string as is, null as empty, anything else as compact JSON
    /// (the same text `${{ }}` interpolation gives).
    mutating func text(_ template: String, field: String) throws(StepRenderError) -> String {
        Self.text(of: try value(template, field: field))
    }

    /// A process's `command` and `env`, as the kinds that start one (`run`, `ssh`) render them: each
    /// element a text, the program not empty; errors name `command[i]` or `env.NAME`.
    mutating func process(command: [String], env: [String: String]) throws(StepRenderError) -> (
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
    mutating func value(_ template: String, field: String) throws(StepRenderError) -> JSONValue {
        do {
            let compiled = try ExpressionTemplate(parsing: template, limits: context.limits)
            return try compiled.evaluate(in: context, usedSecrets: &usedSecrets)
        } catch {
            throw StepRenderError(field: field, message: error.description)
        }
    }

    /// `json` with every string in it (not the keys) evaluated as a template.
    mutating func json(_ json: JSONValue, field: String) throws(StepRenderError) -> JSONValue {
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

    static func text(of value: JSONValue) -> String {
        switch value {
        case .null: ""
        case .string(let string): string
        case .bool, .number, .array, .object: value.jsonString(.compact)
        }
    }
}

/// A template of the action that could not be evaluated: the step fails as `permanent`. The message
/// is the expression error's, which quotes only source text, never a value (so never a secret).
struct StepRenderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where in the action, e.g. `command[1]`, `env.TOKEN`, `body.items[0]`.
    var field: String
    var message: String

    var description: String { "\(field): \(message)" }
}
