import Foundation
import KeelCore
import KeelService
import KeelStore

/// The body of `POST /v1/approvals/{id}/decision`, checked field by field so a bad body is answered with
/// exactly what was wrong.
struct DecisionBody: Sendable, Hashable {
    var decision: StepContext.Decision
    var note: String?
    /// The bound digests the caller reviewed; when present they must be the approval's current ones.
    var digests: [String]?

    /// Parses `bytes`; throws a 400 problem for bad JSON and a 422 problem naming each bad field.
    init(parsing bytes: [UInt8]) throws(ProblemDetails) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw ProblemDetails(
                status: .badRequest, type: "/problems/malformed-body", title: "Malformed JSON body",
                detail: "The body is not JSON: \(error)")
        }
        guard let object = value.objectValue else {
            throw Self.invalid([.init(pointer: "", detail: "expected a JSON object")])
        }
        var errors: [ProblemDetails.FieldError] = []
        let choices = StepContext.Decision.allCases.map(\.rawValue).joined(separator: ", ")
        var decision: StepContext.Decision?
        switch object["decision"] {
        case nil:
            errors.append(.init(pointer: "/decision", detail: "required; one of \(choices)"))
        case .string(let text)?:
            decision = StepContext.Decision(rawValue: text)
            if decision == nil {
                errors.append(
                    .init(
                        pointer: "/decision", detail: "expected one of \(choices), got '\(text.prefix(40))'"))
            }
        default:
            errors.append(.init(pointer: "/decision", detail: "expected a string, one of \(choices)"))
        }
        var note: String?
        switch object["note"] {
        case nil, .null?: break
        case .string(let text)?:
            if text.count > ApprovalStore.maximumNoteLength {
                errors.append(
                    .init(pointer: "/note", detail: "at most \(ApprovalStore.maximumNoteLength) characters"))
            }
            if !text.isStorable {
                errors.append(
                    .init(pointer: "/note", detail: "holds the character U+0000, which cannot be stored"))
            }
            note = text.isEmpty ? nil : text
        default:
            errors.append(.init(pointer: "/note", detail: "expected a string"))
        }
        var digests: [String]?
        switch object["digests"] {
        case nil, .null?: break
        case .array(let items)?:
            digests = []
            for (index, item) in items.enumerated() {
                if let text = item.stringValue, text.count == 64,
                    text.allSatisfy({ $0.isHexDigit && !$0.isUppercase })
                {
                    digests?.append(text)
                } else {
                    errors.append(
                        .init(pointer: "/digests/\(index)", detail: "expected a SHA-256 in lower-case hex"))
                }
            }
        default:
            errors.append(.init(pointer: "/digests", detail: "expected an array of SHA-256 hex strings"))
        }
        guard let decision, errors.isEmpty else { throw Self.invalid(errors) }
        self.decision = decision
        self.note = note
        self.digests = digests
    }

    private static func invalid(_ errors: [ProblemDetails.FieldError]) -> ProblemDetails {
        ProblemDetails(
            status: .unprocessableContent, type: "/problems/invalid-body", title: "Invalid decision",
            detail: errors.map { "\($0.pointer.isEmpty ? "body" : $0.pointer): \($0.detail)" }.joined(
                separator: "; "),
            errors: errors)
    }
}
