import KeelCore
import KeelService

/// A callback as a worker sends it, over HTTP or AMQP: `{"status", "output", "resources", "wait_id"}`
/// (and, over AMQP only, `"token"`). Parsed field by field so a bad one is answered with exactly what
/// was wrong.
struct CallbackRequest: Sendable, Hashable {
    var status: CallbackStatus
    /// The result (or, for a heartbeat, the progress); `{}` when absent.
    var output: JSONValue
    /// Uploaded resources the callback refers to, by the name they take in the step's outputs.
    var resources: [String: ResourceReference]
    /// When given, the wait the worker means to answer: a token issued for another wait is refused.
    var waitID: String?
    /// What the job spent (`usage`), counted against the run's budget; zero when absent.
    var usage: Usage

    /// The largest body read; bigger results belong in an upload (`POST /v1/callbacks/resources`).
    static let maximumBodyBytes = 1 << 20

    /// What went wrong with a body.
    enum Failure: Error, Sendable, Equatable {
        /// Not JSON at all.
        case malformed(String)
        /// JSON, with these fields wrong.
        case invalid([ProblemDetails.FieldError])
    }

    /// Parses `object` (the body, already known to be a JSON object).
    init(_ object: JSONObject) throws(Failure) {
        var errors: [ProblemDetails.FieldError] = []
        let choices = CallbackStatus.allCases.map(\.rawValue).joined(separator: ", ")
        var status: CallbackStatus?
        switch object["status"] {
        case nil: errors.append(.init(pointer: "/status", detail: "required; one of \(choices)"))
        case .string(let text)?:
            status = CallbackStatus(rawValue: text)
            if status == nil {
                errors.append(
                    .init(pointer: "/status", detail: "expected one of \(choices), got '\(text.prefix(40))'"))
            }
        default: errors.append(.init(pointer: "/status", detail: "expected a string, one of \(choices)"))
        }
        var resources: [String: ResourceReference] = [:]
        switch object["resources"] {
        case nil, .null?: break
        case .array(let items)?:
            for (index, item) in items.enumerated() {
                let pointer = "/resources/\(index)"
                guard let entry = item.objectValue else {
                    errors.append(
                        .init(pointer: pointer, detail: "expected {\"name\": ..., \"resource\": ...}"))
                    continue
                }
                guard let name = entry["name"]?.stringValue, CallbackResourceName.isValid(name) else {
                    errors.append(
                        .init(pointer: pointer + "/name", detail: "expected " + CallbackResourceName.rule))
                    continue
                }
                guard let text = entry["resource"]?.stringValue,
                    let reference = try? ResourceReference(parsing: text)
                else {
                    errors.append(
                        .init(
                            pointer: pointer + "/resource", detail: "expected res:sha256:<64 lowercase hex>"))
                    continue
                }
                guard resources[name] == nil else {
                    errors.append(.init(pointer: pointer + "/name", detail: "'\(name)' is named twice"))
                    continue
                }
                resources[name] = reference
            }
        default: errors.append(.init(pointer: "/resources", detail: "expected an array"))
        }
        var waitID: String?
        switch object["wait_id"] {
        case nil, .null?: break
        case .string(let text)? where text.isStorable: waitID = text
        case .string?:
            errors.append(
                .init(pointer: "/wait_id", detail: "holds the character U+0000, which cannot be stored"))
        default: errors.append(.init(pointer: "/wait_id", detail: "expected a string"))
        }
        var usage = Usage.zero
        if let reported = object["usage"], !reported.isNull {
            do {
                usage = try Usage(json: reported, field: "usage")
            } catch {
                let member = error.key.map { "/" + JSONPointer(tokens: [$0]).description.dropFirst() } ?? ""
                errors.append(.init(pointer: "/usage" + member, detail: error.message))
            }
        }
        let output = object["output"].flatMap { $0.isNull ? nil : $0 } ?? .object([:])
        // Refused here, located, rather than by PostgreSQL later, where no retry could help.
        if let problem = output.firstUnstorableValue(under: JSONPointer(tokens: ["output"])) {
            errors.append(.init(pointer: problem.pointer.description.storable, detail: "\(problem)"))
        }
        guard errors.isEmpty, let status else { throw .invalid(errors) }
        self.status = status
        self.output = output
        self.resources = resources
        self.waitID = waitID
        self.usage = usage
    }

    /// Parses a body: a JSON object, or a failure naming what is wrong.
    static func object(_ bytes: [UInt8]) throws(Failure) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw .malformed("The body is not JSON: \(error)")
        }
        guard let object = value.objectValue else {
            throw .invalid([.init(pointer: "", detail: "expected a JSON object")])
        }
        return object
    }
}
