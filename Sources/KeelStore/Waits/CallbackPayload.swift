import KeelCore

/// A callback's output as the step's outputs: the worker's output (an object as it is, anything else
/// under `output`), with each uploaded resource under its name as `{"$resource": "res:sha256:…"}`, the
/// form step outputs carry resources in.
enum CallbackPayload {
    /// The merged outputs, or the names that clash with an output field.
    static func outputs(_ output: JSONValue, resources: [String: ResourceReference]) -> (
        JSONValue, [JSONSchemaValidationError]
    ) {
        guard !resources.isEmpty else { return (output, []) }
        var object: JSONObject =
            if let fields = output.objectValue { fields } else if output.isNull { [:] } else {
                ["output": output]
            }
        var errors: [JSONSchemaValidationError] = []
        for (name, reference) in resources.sorted(by: { $0.key < $1.key }) {
            guard !object.contains(key: name) else {
                errors.append(
                    JSONSchemaValidationError(
                        instanceLocation: JSONPointer(tokens: [name]), keywordLocation: JSONPointer(),
                        message: "a resource and an output field have the same name"))
                continue
            }
            object[name] = ["$resource": .string(reference.description)]
        }
        return (.object(object), errors)
    }

    /// `{"name": "res:sha256:…"}`, as `callbacks.resources` stores them.
    static func json(_ resources: [String: ResourceReference]) -> JSONValue {
        .object(
            JSONObject(
                resources.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value.description)) })
        )
    }

    static func resources(_ json: JSONValue) -> [String: ResourceReference] {
        var resources: [String: ResourceReference] = [:]
        for (name, value) in json.objectValue ?? [:] {
            if let text = value.stringValue, let reference = try? ResourceReference(parsing: text) {
                resources[name] = reference
            }
        }
        return resources
    }
}
