/// The canonical form: the definition as JSON with the YAML field names, defaults omitted,
/// durations in shortest form and sets sorted, serialized with `JSONValue`'s canonical writer.
/// Two files that mean the same flow give the same bytes, whatever their layout, key order,
/// comments, anchors or duration spelling; its SHA-256 identifies a flow version.
extension FlowDefinition: Codable {
    /// The canonical JSON tree (not yet serialized).
    public var jsonValue: JSONValue {
        var object = JSONObject()
        object["flow"] = .string(name)
        object["description"] = description.map(JSONValue.string)
        object["input"] = input
        object["concurrency"] = concurrency?.jsonValue
        object["shard_key"] = shardKey.map(JSONValue.string)
        object["timeout"] = timeout.map { .string($0.description) }
        if !schedules.isEmpty { object["schedules"] = .array(schedules.map(\.jsonValue)) }
        object["steps"] = .array(steps.map(\.jsonValue))
        if !notify.isEmpty { object["notify"] = .array(notify.map(\.jsonValue)) }
        object["budget"] = budget?.jsonValue
        return .object(object)
    }

    /// The canonical JSON text: the bytes that are hashed.
    public var canonicalJSON: String { jsonValue.jsonString(.canonical) }

    /// Lower-case hex SHA-256 of `canonicalJSON`: the version's identity.
    public var contentHash: String { ContentDigest.sha256Hex(of: jsonValue.jsonBytes(.canonical)) }

    /// Reads and validates a canonical (or any equivalent) JSON form, as stored for a version.
    public init(canonicalJSON json: JSONValue, limits: FlowLimits = FlowLimits()) throws(FlowErrors) {
        self = try FlowParser.decode(SourceNode(json: json), file: "<json>", limits: limits)
    }

    public init(from decoder: any Decoder) throws {
        try self.init(canonicalJSON: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }
}

extension ConcurrencyLimit {
    var jsonValue: JSONValue { ["key": .string(key), "limit": .number(JSONNumber(limit))] }
}

extension StepDefinition {
    var jsonValue: JSONValue {
        var object = JSONObject()
        object["id"] = .string(id)
        if !needs.isEmpty { object["needs"] = .array(needs.sorted().map(JSONValue.string)) }
        object["if"] = condition.map(JSONValue.string)
        switch kind {
        case .run(let run): object["run"] = run.jsonValue
        case .http(let http): object["http"] = http.jsonValue
        case .ssh(let ssh): object["ssh"] = ssh.jsonValue
        case .agent(let agent): object["agent"] = agent.jsonValue
        case .approval(let gate): object["approval"] = gate.jsonValue
        case .subflow(let action): object["flow"] = ["name": .string(action.flow), "input": action.input]
        case .wait, .noop: break
        }
        if case .noop = kind { object["noop"] = .object(JSONObject()) }
        // A wait (and the approval beside it) sits beside its action in the step, as in YAML.
        object["wait"] = waitCondition?.jsonValue
        if let gate = waitCondition?.approval { object["approval"] = gate.jsonValue }
        object["retry"] = retry?.jsonValue
        object["timeout"] = timeout.map { .string($0.description) }
        object["queue_timeout"] = queueTimeout.map { .string($0.description) }
        object["concurrency"] = concurrency?.jsonValue
        if !runsOn.isEmpty { object["runs_on"] = .array(runsOn.sorted().map(JSONValue.string)) }
        if let map {
            object["map"] = [
                "over": .string(map.over), "max_concurrency": .number(JSONNumber(map.maxConcurrency)),
            ]
        }
        if !outputs.isEmpty {
            object["outputs"] = .object(
                JSONObject(
                    outputs.sorted { $0.key < $1.key }.map { name, output in
                        switch output {
                        case .inline: (name, "inline")
                        case .resource(let resource, let type):
                            (name, ["resource": .string(resource), "type": .string(type)])
                        }
                    }))
        }
        return .object(object)
    }
}

extension [String: String] {
    fileprivate var jsonValue: JSONValue {
        .object(JSONObject(sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
    }
}

extension RunAction {
    /// Without `wait`, which sits beside `run` in the step.
    var jsonValue: JSONValue {
        var object = JSONObject()
        object["command"] = .array(command.map(JSONValue.string))
        if !env.isEmpty { object["env"] = env.jsonValue }
        object["working_dir"] = workingDirectory.map(JSONValue.string)
        object["stdin"] = stdin.map(JSONValue.string)
        object["timeout"] = timeout.map { .string($0.description) }
        return .object(object)
    }
}

extension HTTPAction {
    var jsonValue: JSONValue {
        var object = JSONObject()
        if method != "GET" { object["method"] = .string(method) }
        object["url"] = .string(url)
        if !headers.isEmpty { object["headers"] = headers.jsonValue }
        object["body"] = body
        if success != HTTPAction.defaultSuccess {
            object["success"] = .array(success.sorted().map { .string($0.description) })
        }
        object["timeout"] = timeout.map { .string($0.description) }
        if !usage.isEmpty {
            var templates = JSONObject()
            for dimension in UsageDimension.allCases {
                if let template = usage[dimension] { templates[dimension.rawValue] = .string(template) }
            }
            object["usage"] = .object(templates)
        }
        return .object(object)
    }
}

extension SSHAction {
    /// Without `wait`, which sits beside `ssh` in the step.
    var jsonValue: JSONValue {
        var object = JSONObject()
        object["host"] = .string(host)
        object["command"] = .array(command.map(JSONValue.string))
        if !env.isEmpty { object["env"] = env.jsonValue }
        object["timeout"] = timeout.map { .string($0.description) }
        return .object(object)
    }
}

extension AgentAction {
    var jsonValue: JSONValue {
        var object = JSONObject()
        object["adapter"] = .string(adapter.rawValue)
        object["prompt"] = .string(prompt)
        object["working_dir"] = .string(workingDirectory)
        object["command"] = command.map { .array($0.map(JSONValue.string)) }
        object["model"] = model.map(JSONValue.string)
        if !arguments.isEmpty { object["args"] = .array(arguments.map(JSONValue.string)) }
        if !env.isEmpty { object["env"] = env.jsonValue }
        object["timeout"] = timeout.map { .string($0.description) }
        return .object(object)
    }
}

extension WaitCondition {
    /// Without `approval`, which sits beside `wait` in the step.
    var jsonValue: JSONValue {
        var object = JSONObject()
        object["timeout"] = .string(timeout.description)
        object["heartbeat"] = heartbeat.map { .string($0.description) }
        object["schema"] = schema
        return .object(object)
    }
}

extension ApprovalGate {
    var jsonValue: JSONValue {
        var object = JSONObject()
        object["approvers"] = .array(approvers.sorted().map { .string($0.description) })
        if requiredApprovals != 1 { object["required_approvals"] = .number(JSONNumber(requiredApprovals)) }
        if allowSelfApproval { object["allow_self_approval"] = true }
        object["summary"] = summary.map(JSONValue.string)
        if !bind.isEmpty { object["bind"] = .array(bind.map(JSONValue.string)) }
        object["timeout"] = timeout.map { .string($0.description) }
        if onTimeout != .reject { object["on_timeout"] = .string(onTimeout.rawValue) }
        object["reminder"] = reminder.map { .string($0.description) }
        if let requestChanges {
            var changes = JSONObject()
            changes["step"] = .string(requestChanges.step)
            if requestChanges.maxRounds != 3 {
                changes["max_rounds"] = .number(JSONNumber(requestChanges.maxRounds))
            }
            object["request_changes"] = .object(changes)
        }
        return .object(object)
    }
}

extension RetryPolicy {
    var jsonValue: JSONValue {
        var object = JSONObject()
        object["max_attempts"] = .number(JSONNumber(maxAttempts))
        if backoff != .exponential { object["backoff"] = .string(backoff.rawValue) }
        if initial != RetryPolicy.defaultInitial { object["initial"] = .string(initial.description) }
        object["max"] = maximum.map { .string($0.description) }
        if !jitter { object["jitter"] = false }
        if on != RetryPolicy.defaultOn { object["on"] = .array(on.sorted().map { .string($0.rawValue) }) }
        return .object(object)
    }
}

/// A step alone in its canonical JSON form. Decoding checks the step's own fields; what needs the
/// whole flow (`needs` targets, cycles, step references in templates) is checked with the flow.
extension StepDefinition: Codable {
    public init(from decoder: any Decoder) throws {
        var flowDecoder = FlowDecoder(file: "<json>", limits: FlowLimits())
        let step = flowDecoder.decodeStep(SourceNode(json: try JSONValue(from: decoder)), "step", index: 0)
        for site in flowDecoder.templates {
            do {
                _ = try ExpressionTemplate(parsing: site.text)
            } catch {
                flowDecoder.fail(
                    .invalidExpression, at: site.position, site.path, "invalid expression: \(error.message)")
            }
        }
        guard flowDecoder.errors.isEmpty, let step else {
            throw FlowErrors(flowDecoder.errors)
        }
        self = step
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }
}
