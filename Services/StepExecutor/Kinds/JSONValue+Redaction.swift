import KeelCore

extension JSONValue {
    /// The value with every secret masked in its strings and object keys: outputs a step produced
    /// may echo a secret it was given, and outputs are stored and shown.
    func redacted(with redactor: SecretRedactor) -> JSONValue {
        guard !redactor.isEmpty else { return self }
        switch self {
        case .null, .bool, .number:
            return self
        case .string(let string):
            return .string(redactor.redacting(string))
        case .array(let elements):
            return .array(elements.map { $0.redacted(with: redactor) })
        case .object(let members):
            return .object(members.redacted(with: redactor))
        }
    }
}

extension JSONObject {
    /// See `JSONValue.redacted(with:)`.
    func redacted(with redactor: SecretRedactor) -> JSONObject {
        guard !redactor.isEmpty else { return self }
        return JSONObject(map { (redactor.redacting($0.key), $0.value.redacted(with: redactor)) })
    }
}
