import Foundation
import Hummingbird
import KeelCore
import KeelStore

/// A decision sent from an approval's page: checked (session, CSRF, origin), recorded, then the page
/// again with the outcome; a refused decision shows the page with the reason and the matching status.
extension ApprovalWeb {
    struct DecisionForm: Decodable {
        var decision: String?
        var note: String?
        /// The digests the page showed, comma-separated.
        var digests: String?
        var csrf: String?
    }

    func decide(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let session = try await signedInSession(request) else { return Self.toSignIn }
        let id = try Self.id(context)
        let form = try? await URLEncodedFormDecoder().decode(
            DecisionForm.self, from: request, context: context)
        guard session.accepts(request, csrf: form?.csrf, https: https) else { return Self.forgedForm }
        guard let decision = form?.decision.flatMap(StepContext.Decision.init(rawValue:)) else {
            return try await detail(
                id, session: session,
                message: .init(text: "Choose approve, reject or request changes.", isError: true),
                status: .badRequest)
        }
        let note = form?.note.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap {
            $0.isEmpty ? nil : $0
        }
        let digests = form?.digests.map { $0.split(separator: ",").map(String.init) }
        let decided: ApprovalRecord
        do {
            decided = try await approvals.decide(
                id, by: session.principal, decision: decision, note: note, digests: digests)
        } catch let error as ApprovalError {
            let (status, text) = Self.explain(error)
            return try await detail(
                id, session: session, message: .init(text: text, isError: true), status: status)
        }
        await recorded.record(
            decision, settled: decided, by: session.principal.name, via: "web", logger: logger)
        return Response(
            status: .seeOther,
            headers: [.location: ApprovalLinks.page(id) + "?recorded=\(decision.rawValue)"])
    }

    /// The status and the sentence a person sees for a refused decision.
    static func explain(_ error: ApprovalError) -> (HTTPResponse.Status, String) {
        switch error {
        case .notFound:
            (.notFound, "There is no such approval that you may see.")
        case .notAnApprover:
            (.forbidden, "You are not one of this step's approvers, so you cannot decide it.")
        case .ownRun:
            (.forbidden, "You started this run; someone else has to approve it.")
        case .requesterUnauthenticated:
            (
                .forbidden,
                "This run was started by an unauthenticated publisher, and this gate does not allow self-approval, so nobody can approve it; reject it and start it again with your own credentials."
            )
        case .closed(let status):
            (.conflict, "This approval is already closed (\(status.rawValue)); nothing was recorded.")
        case .alreadyDecided:
            (.conflict, "You have already decided this approval; a decision is recorded once.")
        case .boundChanged:
            (.conflict, "The bound artifacts changed since this page was loaded; review them again below.")
        case .requestChangesNotAllowed:
            (.unprocessableContent, "This step does not allow requesting changes; approve or reject it.")
        case .noteTooLong:
            (.unprocessableContent, "The note is longer than \(ApprovalStore.maximumNoteLength) characters.")
        case .noteUnstorable:
            (.unprocessableContent, "The note holds a NUL character (U+0000), which cannot be stored.")
        case .noteRequired:
            (.unprocessableContent, "Say why in the note: rejecting or requesting changes needs one.")
        }
    }
}
