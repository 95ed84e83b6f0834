/// Why a decision was refused. Each case maps to one HTTP status in the approval-service.
public enum ApprovalError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No such approval, or one the caller may not see: the two are not told apart.
    case notFound
    /// The caller may see the approval but is not one of its approvers.
    case notAnApprover
    /// The requester may not approve their own run unless the gate allows it.
    case ownRun
    /// The gate forbids self-approval but the run's requester was not authenticated, so nobody can be
    /// shown not to be the requester: approvals are refused (rejections still count).
    case requesterUnauthenticated
    /// The approval is no longer pending.
    case closed(ApprovalStatus)
    /// This approver already decided this approval.
    case alreadyDecided
    /// The caller approved different content from what the approval is now bound to.
    case boundChanged
    /// `request_changes` on a gate without a `request_changes` rule.
    case requestChangesNotAllowed
    /// The note is longer than `ApprovalStore.maximumNoteLength`.
    case noteTooLong
    /// The note holds U+0000, which PostgreSQL cannot store.
    case noteUnstorable
    /// A reject or request_changes without a note: the people (or the agent) sent back need the reason.
    case noteRequired

    public var description: String {
        switch self {
        case .notFound: "no such approval"
        case .notAnApprover: "you are not one of this approval's approvers"
        case .ownRun: "the requester may not approve their own run"
        case .requesterUnauthenticated:
            "the run's requester is not authenticated and this gate does not allow self-approval"
        case .closed(let status): "the approval is no longer pending (\(status.rawValue))"
        case .alreadyDecided: "you already decided this approval"
        case .boundChanged: "the bound artifacts changed since you reviewed them"
        case .requestChangesNotAllowed: "this approval gate does not allow request_changes"
        case .noteRequired: "a note is required when rejecting or requesting changes"
        case .noteTooLong: "the note is longer than \(ApprovalStore.maximumNoteLength) characters"
        case .noteUnstorable: "the note holds the character U+0000, which cannot be stored"
        }
    }
}
