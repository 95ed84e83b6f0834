/// `flow:` as a step kind: start the live release of another flow as a child run and wait for it.
///
/// The child is an ordinary run, created by trigger-intake like any other, whose row records its
/// parent; it inherits the parent's correlation id, trace, actor and authenticated requester (so an
/// approval in the child keeps separation of duties). When it finishes, its outcome comes back to the
/// waiting step; when the step is stopped (the parent is cancelled, the step's timeout passes), the
/// child is cancelled too.
public struct SubflowAction: Sendable, Hashable {
    /// How deep children may nest: a run started by a run started by ... at most this many levels down.
    public static let maximumDepth = 5
    /// Largest rendered input: the child's trigger (input and a few hundred bytes of envelope) must fit
    /// the 1 MiB trigger-intake takes.
    public static let maximumInputBytes = TriggerRequest.maximumBodyBytes - 4096

    /// Idempotency keys of this shape (`<run>:<step>:<attempt>:wait`) belong to child runs: an ordinary
    /// trigger may not take one, or it could claim a child's place before the child is created.
    public static func isChildKey(_ key: String) -> Bool {
        AttemptID(waitID: key) != nil
    }

    /// The child flow's name; its live release when the step starts.
    public var flow: String
    /// The child's input; strings inside may be templates (no secrets: the input is recorded).
    public var input: JSONValue

    public init(flow: String, input: JSONValue = [:]) {
        self.flow = flow
        self.input = input
    }
}

/// A child run the reducer asks for: the trigger trigger-intake receives for it.
public struct SubflowRequest: Sendable, Hashable {
    public var step: String
    public var attempt: Int
    /// The parent step's wait, also the child trigger's idempotency key: one child per attempt.
    public var waitID: String
    public var flow: String
    /// Rendered.
    public var input: JSONValue

    public init(step: String, attempt: Int, waitID: String, flow: String, input: JSONValue) {
        self.step = step
        self.attempt = attempt
        self.waitID = waitID
        self.flow = flow
        self.input = input
    }
}
