extension FlowDecoder {
    /// Reads a template's `parameters`: names, schemas, and the value each is checked with at publish.
    mutating func decodeParameters(_ node: SourceNode, _ path: String) -> [TemplateParameter] {
        guard case .mapping(let entries) = node.value else {
            wrongType(node, path, expected: "a mapping of parameter names to JSON Schemas")
            return []
        }
        var parameters: [TemplateParameter] = []
        for entry in entries {
            let entryPath = FlowPath.child(path, entry.key)
            guard NamePattern.stepID.matches(entry.key) else {
                fail(
                    .invalidName, at: entry.keyPosition, entryPath,
                    "expected a parameter name matching ^[a-z][a-z0-9_-]{0,63}$; got '\(FlowError.quoted(entry.key))'"
                )
                continue
            }
            guard let schema = schema(entry.value, entryPath) else { continue }
            let object = schema.objectValue
            let defaultValue = object?["default"]
            let firstExample = object?["examples"]?.arrayValue?.first
            guard let probe = defaultValue ?? firstExample else {
                fail(
                    .missingField, at: entry.value.position, entryPath,
                    "expected a 'default' or 'examples' so the template can be checked when it is published")
                continue
            }
            let compiled: JSONSchema
            do {
                compiled = try JSONSchema(schema)
            } catch {
                continue  // reported by `schema(_:_:)`
            }
            if let problem = compiled.validate(probe).first {
                let field = defaultValue != nil ? "default" : "examples"
                fail(
                    .invalidValue, at: entry.value.position, FlowPath.child(entryPath, field),
                    "expected a value the parameter's own schema accepts; \(problem)")
                continue
            }
            parameters.append(
                TemplateParameter(name: entry.key, schema: schema, defaultValue: defaultValue, probe: probe))
        }
        return parameters
    }
}
