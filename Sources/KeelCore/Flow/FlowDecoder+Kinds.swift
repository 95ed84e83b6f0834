extension FlowDecoder {
    /// Exactly one kind key per step; `run` and `ssh` may be joined by `wait`, and a `wait` by `approval`.
    mutating func decodeKind(_ fields: Fields, step: Int) -> StepKind? {
        let present = StepKind.names.filter { fields.has($0) }
        let actions = present.filter { $0 != "wait" && $0 != "approval" }
        let isCombination =
            present.contains("wait") && actions.allSatisfy { $0 == "run" || $0 == "ssh" }
            && actions.count <= 1
        guard present.count == 1 || isCombination else {
            let found = present.isEmpty ? "none" : present.joined(separator: ", ")
            let position =
                present.count > 1
                ? (fields.entries[present[1]]?.keyPosition ?? fields.node.position) : fields.node.position
            fail(
                .stepKind, at: position, fields.path,
                "expected exactly one of run, http, ssh, agent, approval, wait, noop, flow "
                    + "(run and ssh may add wait; wait may add approval); got \(found)"
            )
            // Still read each kind, so its own mistakes are reported in the same pass.
            for name in present {
                guard let node = fields[name] else { continue }
                let path = fields.path(name)
                switch name {
                case "run": _ = decodeRun(node, path, step: step)
                case "http": _ = decodeHTTP(node, path, step: step)
                case "ssh": _ = decodeSSH(node, path, step: step)
                case "agent": _ = decodeAgent(node, path, step: step)
                case "approval": _ = decodeApproval(node, path, step: step)
                case "wait": _ = decodeWait(node, path)
                case "flow": _ = decodeSubflow(node, path, step: step)
                default: _ = decodeNoop(node, path)
                }
            }
            return nil
        }
        if isCombination { return decodeWaitCombination(fields, action: actions.first, step: step) }
        switch present[0] {
        case "run":
            return fields["run"].flatMap { decodeRun($0, fields.path("run"), step: step) }.map(StepKind.run)
        case "http":
            return fields["http"].flatMap { decodeHTTP($0, fields.path("http"), step: step) }.map(
                StepKind.http)
        case "ssh":
            return fields["ssh"].flatMap { decodeSSH($0, fields.path("ssh"), step: step) }.map(StepKind.ssh)
        case "agent":
            return fields["agent"].flatMap { decodeAgent($0, fields.path("agent"), step: step) }.map(
                StepKind.agent)
        case "approval":
            return fields["approval"].flatMap { decodeApproval($0, fields.path("approval"), step: step) }.map(
                StepKind.approval)
        case "wait": return fields["wait"].flatMap { decodeWait($0, fields.path("wait")) }.map(StepKind.wait)
        case "flow":
            return fields["flow"].flatMap { decodeSubflow($0, fields.path("flow"), step: step) }.map(
                StepKind.subflow)
        default:
            return decodeNoop(fields["noop"], fields.path("noop")) ? .noop : nil
        }
    }

    /// `wait` with `run` or `ssh` (`action`) and/or `approval`: the wait carries the approval and the action
    /// the wait. An approval beside a wait cannot send the run back: the step ends on the callback or the
    /// decision, whichever comes first.
    private mutating func decodeWaitCombination(_ fields: Fields, action: String?, step: Int) -> StepKind? {
        let errorCount = errors.count
        var wait = fields["wait"].flatMap { decodeWait($0, fields.path("wait")) }
        if let node = fields["approval"], let gate = decodeApproval(node, fields.path("approval"), step: step)
        {
            if gate.requestChanges != nil {
                let changes = node.node(at: JSONPointer(tokens: ["request_changes"]))
                fail(
                    .invalidValue, at: changes?.position ?? node.position,
                    fields.path("approval") + ".request_changes",
                    "expected no request_changes in an approval beside wait: the step ends on the callback "
                        + "or the decision; use a separate approval step to send the run back")
            }
            wait?.approval = gate
        }
        switch action {
        case "run":
            let run = fields["run"].flatMap { decodeRun($0, fields.path("run"), step: step) }
            guard errors.count == errorCount, var run, let wait else { return nil }
            run.wait = wait
            return .run(run)
        case "ssh":
            let ssh = fields["ssh"].flatMap { decodeSSH($0, fields.path("ssh"), step: step) }
            guard errors.count == errorCount, var ssh, let wait else { return nil }
            ssh.wait = wait
            return .ssh(ssh)
        default:
            guard errors.count == errorCount, let wait else { return nil }
            return .wait(wait)
        }
    }

    /// `flow: {name, input}`: the child flow and its input, whose strings may be templates.
    mutating func decodeSubflow(_ node: SourceNode, _ path: String, step: Int) -> SubflowAction? {
        guard let fields = fields(node, path, allowed: ["name", "input"]) else { return nil }
        let errorCount = errors.count
        let flow = required(fields, "name").flatMap {
            name(
                $0, fields.path("name"), pattern: .flowName,
                description: "a flow name matching ^[a-z0-9][a-z0-9._-]{0,127}$")
        }
        var input: JSONValue = [:]
        if let inputNode = fields["input"] {
            input = json(inputNode, fields.path("input")) ?? [:]
            collectTemplates(in: inputNode, fields.path("input"), step: step)
        }
        guard errors.count == errorCount, let flow else { return nil }
        return SubflowAction(flow: flow, input: input)
    }

    /// `noop: {}`, `noop: true` or `noop:` (null).
    mutating func decodeNoop(_ node: SourceNode?, _ path: String) -> Bool {
        guard let node else { return false }
        switch node.value {
        case .scalar(.null), .scalar(.bool(true)): return true
        case .mapping(let entries) where entries.isEmpty: return true
        default:
            wrongType(node, path, expected: "{} or true")
            return false
        }
    }

    mutating func decodeRun(_ node: SourceNode, _ path: String, step: Int) -> RunAction? {
        let allowed = ["command", "env", "working_dir", "stdin", "timeout"]
        guard let fields = fields(node, path, allowed: allowed) else { return nil }
        let errorCount = errors.count
        let command = required(fields, "command").flatMap {
            self.command($0, fields.path("command"), step: step)
        }
        let env = fields["env"].flatMap { environment($0, fields.path("env"), step: step) } ?? [:]
        let workingDirectory = fields["working_dir"].flatMap {
            template($0, fields.path("working_dir"), step: step)
        }
        let stdin = fields["stdin"].flatMap { template($0, fields.path("stdin"), step: step) }
        let timeout = fields["timeout"].flatMap { duration($0, fields.path("timeout")) }
        guard errors.count == errorCount, let command else { return nil }
        return RunAction(
            command: command, env: env, workingDirectory: workingDirectory, stdin: stdin, timeout: timeout)
    }

    mutating func decodeHTTP(_ node: SourceNode, _ path: String, step: Int) -> HTTPAction? {
        let allowed = ["method", "url", "headers", "body", "success", "timeout", "usage"]
        guard let fields = fields(node, path, allowed: allowed) else { return nil }
        let errorCount = errors.count
        let method =
            fields["method"].flatMap { oneOf($0, fields.path("method"), HTTPAction.methods) } ?? "GET"
        let url = required(fields, "url").flatMap { template($0, fields.path("url"), step: step) }
        if let url, let urlNode = fields["url"], !url.hasPrefix("${{"),
            !(url.hasPrefix("https://") || url.hasPrefix("http://"))
        {
            fail(
                .invalidValue, at: urlNode.position, fields.path("url"),
                "expected an absolute http:// or https:// URL; got '\(FlowError.quoted(url))'")
        }
        let headers =
            fields["headers"].flatMap {
                stringMap(
                    $0, fields.path("headers"), step: step, keyPattern: .headerName,
                    keyDescription: "an HTTP header name")
            } ?? [:]
        var body: JSONValue?
        if let bodyNode = fields["body"] {
            body = json(bodyNode, fields.path("body"))
            collectTemplates(in: bodyNode, fields.path("body"), step: step)
        }
        var success = HTTPAction.defaultSuccess
        if let successNode = fields["success"],
            let elements = list(successNode, fields.path("success"), nonEmpty: true)
        {
            var matches: Set<HTTPStatusMatch> = []
            for (index, element) in elements.enumerated() {
                let elementPath = FlowPath.index(fields.path("success"), index)
                guard let text = text(element, elementPath) else { continue }
                guard let match = HTTPStatusMatch(parsing: text) else {
                    fail(
                        .invalidValue, at: element.position, elementPath,
                        "expected a status class 1xx…5xx or a status 100…599; got '\(FlowError.quoted(text))'"
                    )
                    continue
                }
                matches.insert(match)
            }
            success = matches.sorted()
        }
        let timeout = fields["timeout"].flatMap { duration($0, fields.path("timeout")) }
        var usage: [UsageDimension: String] = [:]
        if let usageNode = fields["usage"],
            let usageFields = self.fields(
                usageNode, fields.path("usage"), allowed: UsageDimension.allCases.map(\.rawValue))
        {
            for dimension in UsageDimension.allCases {
                guard let node = usageFields[dimension.rawValue] else { continue }
                usage[dimension] = template(node, usageFields.path(dimension.rawValue), step: step)
            }
        }
        guard errors.count == errorCount, let url else { return nil }
        return HTTPAction(
            method: method, url: url, headers: headers, body: body, success: success, timeout: timeout,
            usage: usage)
    }

    mutating func decodeSSH(_ node: SourceNode, _ path: String, step: Int) -> SSHAction? {
        guard let fields = fields(node, path, allowed: ["host", "command", "env", "timeout"]) else {
            return nil
        }
        let errorCount = errors.count
        let host = required(fields, "host").flatMap { template($0, fields.path("host"), step: step) }
        let command = required(fields, "command").flatMap {
            self.command($0, fields.path("command"), step: step)
        }
        let env = fields["env"].flatMap { environment($0, fields.path("env"), step: step) } ?? [:]
        let timeout = fields["timeout"].flatMap { duration($0, fields.path("timeout")) }
        guard errors.count == errorCount, let host, let command else { return nil }
        return SSHAction(host: host, command: command, env: env, timeout: timeout)
    }

    mutating func decodeWait(_ node: SourceNode, _ path: String) -> WaitCondition? {
        guard let fields = fields(node, path, allowed: ["timeout", "heartbeat", "schema"]) else { return nil }
        let errorCount = errors.count
        let timeout = required(fields, "timeout").flatMap { duration($0, fields.path("timeout")) }
        let heartbeat = fields["heartbeat"].flatMap { duration($0, fields.path("heartbeat")) }
        let schema = fields["schema"].flatMap { self.schema($0, fields.path("schema")) }
        if let timeout, let heartbeat, heartbeat >= timeout, let node = fields["heartbeat"] {
            fail(
                .invalidValue, at: node.position, fields.path("heartbeat"),
                "expected a heartbeat interval shorter than the timeout \(timeout); got \(heartbeat)")
        }
        guard errors.count == errorCount, let timeout else { return nil }
        return WaitCondition(timeout: timeout, heartbeat: heartbeat, schema: schema)
    }

    mutating func decodeApproval(_ node: SourceNode, _ path: String, step: Int) -> ApprovalGate? {
        let allowed = [
            "approvers", "required_approvals", "allow_self_approval", "summary", "bind", "timeout",
            "on_timeout",
            "reminder", "request_changes",
        ]
        guard let fields = fields(node, path, allowed: allowed) else { return nil }
        let errorCount = errors.count
        let approvers =
            required(fields, "approvers").map { decodeApprovers($0, fields.path("approvers")) } ?? []
        let required = fields["required_approvals"].flatMap {
            integer($0, fields.path("required_approvals"), in: 1...100)
        }
        if let required, !approvers.isEmpty,
            !approvers.contains(where: { if case .group = $0 { true } else { false } }),
            required > approvers.count, let requiredNode = fields["required_approvals"]
        {
            fail(
                .invalidValue, at: requiredNode.position, fields.path("required_approvals"),
                "expected at most \(approvers.count) (the number of approvers, no groups); got \(required)")
        }
        let allowSelf = fields["allow_self_approval"].flatMap { bool($0, fields.path("allow_self_approval")) }
        let summary = fields["summary"].flatMap { template($0, fields.path("summary"), step: step) }
        var bind: [String] = []
        if let bindNode = fields["bind"], let elements = list(bindNode, fields.path("bind")) {
            for (index, element) in elements.enumerated() {
                if let binding = template(element, FlowPath.index(fields.path("bind"), index), step: step) {
                    bind.append(binding)
                }
            }
        }
        let timeout = fields["timeout"].flatMap { duration($0, fields.path("timeout")) }
        let onTimeout = fields["on_timeout"].flatMap {
            oneOf($0, fields.path("on_timeout"), ApprovalTimeoutAction.allCases.map(\.rawValue))
                .flatMap(ApprovalTimeoutAction.init(rawValue:))
        }
        if fields.has("on_timeout") && !fields.has("timeout"), let node = fields["on_timeout"] {
            fail(
                .invalidValue, at: node.position, fields.path("on_timeout"),
                "expected a timeout for on_timeout to apply to")
        }
        let reminder = fields["reminder"].flatMap { duration($0, fields.path("reminder")) }
        if let reminder, let timeout, reminder >= timeout, let node = fields["reminder"] {
            fail(
                .invalidValue, at: node.position, fields.path("reminder"),
                "expected a reminder delay shorter than the timeout \(timeout); got \(reminder)")
        }
        var requestChanges: RequestChanges?
        if let node = fields["request_changes"],
            let inner = self.fields(node, fields.path("request_changes"), allowed: ["step", "max_rounds"])
        {
            let target = self.required(inner, "step").flatMap { string($0, inner.path("step")) }
            let rounds = inner["max_rounds"].flatMap { integer($0, inner.path("max_rounds"), in: 1...100) }
            if let target { requestChanges = RequestChanges(step: target, maxRounds: rounds ?? 3) }
        }
        guard errors.count == errorCount else { return nil }
        return ApprovalGate(
            approvers: approvers.sorted(), requiredApprovals: required ?? 1,
            allowSelfApproval: allowSelf ?? false,
            summary: summary, bind: bind, timeout: timeout, onTimeout: onTimeout ?? .reject,
            reminder: reminder,
            requestChanges: requestChanges)
    }

    mutating func environment(_ node: SourceNode, _ path: String, step: Int) -> [String: String]? {
        stringMap(
            node, path, step: step, keyPattern: .environmentName,
            keyDescription: "a variable name matching ^[A-Za-z_][A-Za-z0-9_]*$")
    }

    /// Every string inside a JSON value (an HTTP body) may be a template.
    mutating func collectTemplates(in node: SourceNode, _ path: String, step: Int) {
        switch node.value {
        case .scalar(.string(let text)) where text.contains("${{"):
            templates.append(TemplateSite(text: text, path: path, position: node.position, stepIndex: step))
        case .sequence(let elements):
            for (index, element) in elements.enumerated() {
                collectTemplates(in: element, FlowPath.index(path, index), step: step)
            }
        case .mapping(let entries):
            for entry in entries {
                collectTemplates(in: entry.value, FlowPath.child(path, entry.key), step: step)
            }
        default:
            break
        }
    }
}

extension FlowDecoder {
    /// A non-empty list of users and `group:NAME`s, each once (an approval's or a budget's `approvers`).
    mutating func decodeApprovers(_ node: SourceNode, _ path: String) -> [Approver] {
        var approvers: [Approver] = []
        guard let elements = list(node, path, nonEmpty: true) else { return [] }
        for (index, element) in elements.enumerated() {
            let elementPath = FlowPath.index(path, index)
            guard let text = string(element, elementPath) else { continue }
            let isGroup = text.hasPrefix("group:")
            let name = isGroup ? String(text.dropFirst(6)) : text
            guard NamePattern.principal.matches(name) else {
                fail(
                    .invalidName, at: element.position, elementPath,
                    "expected a user name or group:NAME (letters, digits, . _ @ -); got '\(FlowError.quoted(text))'"
                )
                continue
            }
            let approver: Approver = isGroup ? .group(name) : .user(name)
            if approvers.contains(approver) {
                fail(
                    .invalidValue, at: element.position, elementPath,
                    "expected each approver once; '\(text)' is listed twice")
                continue
            }
            approvers.append(approver)
        }
        return approvers
    }
}
