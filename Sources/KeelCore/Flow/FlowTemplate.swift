/// A flow with declared parameters, from which ordinary flows are created.
///
/// A template file is a flow file that names itself with `template:` instead of `flow:` and declares
/// `parameters` (name → JSON Schema with a `default` or `examples`). Its strings may hold
/// `${{ params.NAME }}` placeholders, which are replaced when a flow is created from it; the result
/// is an ordinary flow with its own name and no trace of the parameters. Publishing checks the
/// template completely by creating a flow from each parameter's default (or first example), so a
/// published template cannot fail later for reasons that do not depend on the values given.
///
/// ```swift
/// let template = try FlowTemplate.parse(yaml: text, file: "templates/fix.yaml")
/// let created = try template.instantiate(flow: "fix-billing", values: ["repo": "acme/billing"])
/// ```
public struct FlowTemplate: Sendable {
    /// `^[a-z0-9][a-z0-9._-]{0,127}$`.
    public let name: String
    public let description: String?
    public let parameters: [TemplateParameter]
    /// The canonical JSON of the template document (layout, comments and key order do not count).
    public let canonicalJSON: String
    /// Lower-case hex SHA-256 of `canonicalJSON`: the template version's identity.
    public let contentHash: String
    /// The flow fields, placeholders still in place.
    let body: [SourceNode.Entry]
    let namePosition: SourcePosition
    let file: String
    let limits: FlowLimits

    static let ownFields = ["template", "parameters"]

    /// Parses and checks a template; throws every problem found, in source order.
    public static func parse(
        yaml: String, file: String, limits: FlowLimits = FlowLimits()
    ) throws(FlowErrors) -> FlowTemplate {
        var reader = YAMLSourceReader(file: file, limits: limits)
        guard let root = reader.read(yaml) else { throw FlowErrors(reader.errors) }
        var decoder = FlowDecoder(file: file, limits: limits)
        decoder.errors = reader.errors
        guard case .mapping(let entries) = root.value else {
            decoder.wrongType(root, "", expected: "a mapping with 'template', 'parameters' and 'steps'")
            throw FlowErrors(decoder.errors)
        }
        let fields = Dictionary(entries.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        if let flowField = fields["flow"] {
            decoder.fail(
                .unknownField, at: flowField.keyPosition, "flow",
                "a template names itself with 'template'; the flow's name is given when a flow is created from it"
            )
        }
        let nameNode = fields["template"]?.value
        let name = nameNode.flatMap {
            decoder.name(
                $0, "template", pattern: .flowName,
                description: "a template name matching ^[a-z0-9][a-z0-9._-]{0,127}$")
        }
        if nameNode == nil {
            decoder.fail(.missingField, at: root.position, "", "missing required field 'template'")
        }
        var parameters: [TemplateParameter] = []
        if let parametersNode = fields["parameters"]?.value {
            parameters = decoder.decodeParameters(parametersNode, "parameters")
        } else {
            decoder.fail(.missingField, at: root.position, "", "missing required field 'parameters'")
        }
        let body = entries.filter { !ownFields.contains($0.key) && $0.key != "flow" }
        checkPlaceholders(in: body, declared: fields["parameters"], parameters: parameters, decoder: &decoder)
        let description = fields["description"]?.value.stringValue
        guard decoder.errors.isEmpty, let name else { throw FlowErrors(decoder.errors) }

        let canonical: JSONValue
        switch root.jsonValue() {
        case .success(let json): canonical = json
        case .failure(let nonJSON):
            throw FlowErrors([
                FlowError(
                    code: .wrongType, file: file, position: nonJSON.position, path: "",
                    message: "expected a JSON value; got '\(FlowError.quoted(nonJSON.text))'")
            ])
        }
        let template = FlowTemplate(
            name: name, description: description, parameters: parameters,
            canonicalJSON: canonical.jsonString(.canonical),
            contentHash: ContentDigest.sha256Hex(of: canonical.jsonBytes(.canonical)),
            body: body, namePosition: fields["template"]?.keyPosition ?? root.position, file: file,
            limits: limits)
        // The complete check: a flow made from the defaults must be valid.
        _ = try template.flowTree(
            flow: name, values: Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.probe) })
        )
        .decoded(file: file, limits: limits)
        return template
    }

    /// Every placeholder names a declared parameter, and every declared parameter is used.
    private static func checkPlaceholders(
        in body: [SourceNode.Entry], declared: SourceNode.Entry?, parameters: [TemplateParameter],
        decoder: inout FlowDecoder
    ) {
        let sites = body.flatMap { TemplatePlaceholder.sites(in: $0.value, path: $0.key) }
        // Declared names, also those whose declaration had errors (reported on their own).
        var names: [String] = []
        if case .mapping(let declaredEntries)? = declared?.value.value {
            names = declaredEntries.map(\.key)
        }
        for site in sites where !names.contains(site.name) {
            var message = "unknown parameter '\(FlowError.quoted(site.name))'"
            if let suggestion = Suggestion.closest(to: site.name, among: names) {
                message += "; did you mean '\(suggestion)'?"
            } else {
                message +=
                    names.isEmpty
                    ? "; the template declares no parameters"
                    : "; declared: \(names.joined(separator: ", "))"
            }
            decoder.fail(.invalidValue, at: site.position, site.path, message)
        }
        guard case .mapping(let declaredEntries)? = declared?.value.value else { return }
        for entry in declaredEntries where parameters.contains(where: { $0.name == entry.key }) {
            if !sites.contains(where: { $0.name == entry.key }) {
                decoder.fail(
                    .invalidValue, at: entry.keyPosition, FlowPath.child("parameters", entry.key),
                    "parameter '\(entry.key)' is declared but no '${{ params.\(entry.key) }}' uses it")
            }
        }
    }

    /// Creates an ordinary flow named `flow`; parameters not given take their `default`.
    ///
    /// Throws when a value is missing, unknown or rejected by its parameter's schema, or when the
    /// resulting flow is invalid (errors point into the template).
    public func instantiate(flow: String, values: [String: JSONValue]) throws(FlowErrors) -> InstantiatedFlow
    {
        var errors: [FlowError] = []
        let names = parameters.map(\.name)
        for name in values.keys.sorted() where !names.contains(name) {
            var message = "unknown parameter '\(FlowError.quoted(name))'"
            if let suggestion = Suggestion.closest(to: name, among: names) {
                message += "; did you mean '\(suggestion)'?"
            } else {
                message += "; the template declares \(names.isEmpty ? "none" : names.joined(separator: ", "))"
            }
            errors.append(
                FlowError(
                    code: .unknownField, file: file, position: .unknown,
                    path: FlowPath.child("parameters", name), message: message))
        }
        var resolved: [String: JSONValue] = [:]
        for parameter in parameters {
            let path = FlowPath.child("parameters", parameter.name)
            guard let value = values[parameter.name] ?? parameter.defaultValue else {
                errors.append(
                    FlowError(
                        code: .missingField, file: file, position: .unknown, path: path,
                        message: "expected a value for parameter '\(parameter.name)' (it has no default)"))
                continue
            }
            do {
                let schema = try JSONSchema(parameter.schema)
                for problem in schema.validate(value) {
                    errors.append(
                        FlowError(
                            code: .invalidValue, file: file, position: .unknown, path: path,
                            message: "the value does not match the parameter's schema: \(problem)"))
                }
            } catch {
                errors.append(
                    FlowError(
                        code: .invalidSchema, file: file, position: .unknown, path: path,
                        message: "invalid JSON Schema: \(error.message)"))
            }
            resolved[parameter.name] = value
        }
        guard errors.isEmpty else { throw FlowErrors(errors) }
        let tree = flowTree(flow: flow, values: resolved)
        let definition = try tree.decoded(file: file, limits: limits)
        let yaml: String
        do {
            yaml = try tree.yamlText()
        } catch {
            throw FlowErrors([
                FlowError(
                    code: .invalidValue, file: file, position: .unknown, path: "",
                    message: "cannot write the flow as YAML")
            ])
        }
        // The stored source must mean exactly the stored definition.
        let reread = try FlowParser.parse(yaml: yaml, file: file, limits: limits)
        guard reread.contentHash == definition.contentHash else {
            throw FlowErrors([
                FlowError(
                    code: .invalidValue, file: file, position: .unknown, path: "",
                    message: "the flow written as YAML does not read back to the same definition")
            ])
        }
        return InstantiatedFlow(definition: definition, yaml: yaml, values: resolved)
    }

    /// The flow document: `flow: NAME` first, then the body with placeholders substituted.
    private func flowTree(flow: String, values: [String: JSONValue]) -> SourceNode {
        let nameEntry = SourceNode.Entry(
            key: "flow", keyPosition: namePosition,
            value: SourceNode(value: .scalar(.string(flow)), position: namePosition))
        let entries = body.map {
            SourceNode.Entry(
                key: $0.key, keyPosition: $0.keyPosition,
                value: TemplatePlaceholder.substitute($0.value, values: values))
        }
        return SourceNode(value: .mapping([nameEntry] + entries), position: namePosition)
    }
}

/// A declared template parameter.
public struct TemplateParameter: Sendable, Hashable {
    public var name: String
    /// Draft 2020-12 JSON Schema every value must satisfy.
    public var schema: JSONValue
    /// Used when no value is given; nil makes the parameter required.
    public var defaultValue: JSONValue?
    /// The value the template is checked with when published: `default`, else the first of `examples`.
    public var probe: JSONValue
    /// The schema's `description`, for `keel template show`.
    public var description: String? { schema.objectValue?["description"]?.stringValue }
}

/// A flow created from a template: its definition, its YAML source, and the values used.
public struct InstantiatedFlow: Sendable {
    public let definition: FlowDefinition
    /// Block YAML for the flow (what is stored as the version's source).
    public let yaml: String
    /// Every parameter's value, defaults included.
    public let values: [String: JSONValue]
}

extension SourceNode {
    fileprivate func decoded(file: String, limits: FlowLimits) throws(FlowErrors) -> FlowDefinition {
        try FlowParser.decode(self, file: file, limits: limits)
    }
}
