/// A trigger as published to `keel.triggers` (DESIGN §4), read and checked before any database work.
///
/// Body: `{"flow": "...", "input": {...}, "idempotency_key": "...", "actor": "...", "draft": N}`;
/// only `flow` is required. Unknown fields are ignored so publishers can be upgraded first.
public struct TriggerRequest: Sendable, Hashable {
    public var flow: String
    /// `{}` when absent.
    public var input: JSONValue
    /// From the body, else the message's `message_id`, else nil (the run then cannot be deduplicated).
    public var idempotencyKey: String?
    public var actor: String?
    /// An explicitly named draft version; nil runs the live release.
    public var draft: Int?

    /// The largest trigger body read: inputs are parameters, and big artifacts travel as resources.
    public static let maximumBodyBytes = 1 << 20
    public static let maximumKeyLength = 256
    public static let maximumActorLength = 256

    /// Reads a trigger body; `messageID` is the AMQP property, the fallback idempotency key.
    public static func parse(body: [UInt8], messageID: String?) -> Result<TriggerRequest, TriggerRejection> {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: body)
        } catch {
            return .failure(
                TriggerRejection(
                    reason: .malformedJSON,
                    message:
                        "the body is not valid JSON: \(error.message) at line \(error.line), column \(error.column)"
                ))
        }
        guard let object = document.objectValue else {
            return .failure(
                TriggerRejection(
                    reason: .invalidBody, field: "",
                    message: "expected a JSON object with at least \"flow\"; got \(document.typeName)"))
        }
        guard let flowValue = object["flow"] else {
            return .failure(
                TriggerRejection(
                    reason: .invalidBody, field: "flow", message: "missing required field \"flow\""))
        }
        guard let flow = flowValue.stringValue, NamePattern.flowName.matches(flow) else {
            return .failure(
                TriggerRejection(
                    reason: .invalidBody, field: "flow",
                    message:
                        "expected a flow name matching ^[a-z0-9][a-z0-9._-]{0,127}$; got \(flowValue.typeName)"
                ))
        }
        var request = TriggerRequest(flow: flow, input: object["input"] ?? .object([:]))
        if let problem = request.input.firstUnstorableValue() {
            return .failure(.unstorableInput(problem))
        }
        switch optionalText(object, "idempotency_key", maximum: maximumKeyLength) {
        case .failure(let rejection): return .failure(rejection)
        case .success(let key): request.idempotencyKey = key ?? messageID.flatMap { $0.isEmpty ? nil : $0 }
        }
        switch optionalText(object, "actor", maximum: maximumActorLength) {
        case .failure(let rejection): return .failure(rejection)
        case .success(let actor): request.actor = actor
        }
        if let draft = object["draft"], draft != .null {
            guard let version = draft.int64Value, version > 0, version <= Int64(Int32.max) else {
                return .failure(
                    TriggerRejection(
                        reason: .invalidBody, field: "draft",
                        message: "expected a positive integer version number; got \(draft.typeName)"))
            }
            request.draft = Int(version)
        }
        return .success(request)
    }

    private static func optionalText(_ object: JSONObject, _ field: String, maximum: Int) -> Result<
        String?, TriggerRejection
    > {
        guard let value = object[field], value != .null else { return .success(nil) }
        guard let text = value.stringValue, !text.isEmpty, text.unicodeScalars.count <= maximum else {
            return .failure(
                TriggerRejection(
                    reason: .invalidBody, field: field,
                    message:
                        "expected a non-empty string of at most \(maximum) characters; got \(value.typeName)")
            )
        }
        guard text.isStorable else {
            return .failure(
                TriggerRejection(
                    reason: .unstorableValue, field: field,
                    message:
                        "\(UnstorableValue(pointer: JSONPointer(tokens: [field]), reason: .nulCharacter))"))
        }
        return .success(text)
    }
}
