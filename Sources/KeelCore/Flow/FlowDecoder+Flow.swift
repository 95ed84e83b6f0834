extension FlowDecoder {
    static let flowFields = [
        "flow", "description", "input", "concurrency", "shard_key", "timeout", "schedules", "steps",
        "notify", "budget",
    ]
    static let stepFields = [
        "id", "needs", "if", "run", "http", "ssh", "agent", "approval", "wait", "noop", "flow", "retry",
        "timeout",
        "queue_timeout", "concurrency", "runs_on", "outputs", "map",
    ]

    /// The whole definition, or nil if anything failed (the errors say what).
    mutating func decodeFlow(_ root: SourceNode) -> FlowDefinition? {
        guard let fields = fields(root, "", allowed: Self.flowFields) else { return nil }
        let name = required(fields, "flow").flatMap {
            self.name(
                $0, "flow", pattern: .flowName,
                description: "a flow name matching ^[a-z0-9][a-z0-9._-]{0,127}$")
        }
        let description = fields["description"].flatMap { string($0, "description", nonEmpty: false) }
        let input = fields["input"].flatMap { schema($0, "input") }
        inputSchema = input
        let concurrency = fields["concurrency"].flatMap { decodeConcurrency($0, "concurrency", step: nil) }
        let shardKey = fields["shard_key"].flatMap { template($0, "shard_key", step: nil) }
        let timeout = fields["timeout"].flatMap { duration($0, "timeout") }
        let schedules = fields["schedules"].flatMap { decodeSchedules($0, "schedules") } ?? []
        let notify = fields["notify"].flatMap { decodeNotify($0, "notify") } ?? []
        let budget = fields["budget"].flatMap { decodeBudget($0, "budget") }
        var steps: [StepDefinition] = []
        if let stepsNode = required(fields, "steps"), let elements = list(stepsNode, "steps", nonEmpty: true)
        {
            if elements.count > limits.maximumSteps {
                fail(
                    .limitExceeded, at: stepsNode.position, "steps",
                    "expected at most \(limits.maximumSteps) steps; got \(elements.count)")
            } else {
                for (index, element) in elements.enumerated() {
                    if let step = decodeStep(element, FlowPath.index("steps", index), index: index) {
                        steps.append(step)
                    }
                }
                if steps.count != elements.count { return nil }
            }
        }
        guard errors.isEmpty, let name else { return nil }
        return FlowDefinition(
            name: name, description: description, input: input,
            concurrency: concurrency,
            shardKey: shardKey, timeout: timeout, schedules: schedules, steps: steps, notify: notify,
            budget: budget)
    }

    mutating func decodeConcurrency(_ node: SourceNode, _ path: String, step: Int?) -> ConcurrencyLimit? {
        guard let fields = fields(node, path, allowed: ["key", "limit"]) else { return nil }
        let key = required(fields, "key").flatMap { template($0, fields.path("key"), step: step) }
        let limit = required(fields, "limit").flatMap { integer($0, fields.path("limit"), in: 1...100_000) }
        guard let key, let limit else { return nil }
        return ConcurrencyLimit(key: key, limit: limit)
    }

    mutating func decodeStep(_ node: SourceNode, _ path: String, index: Int) -> StepDefinition? {
        // Every step gets a skeleton, even one that is no mapping, so skeleton i is step i.
        var skeleton = StepSkeleton(
            index: index, path: path, position: node.position, id: nil, idPosition: node.position)
        defer { skeletons.append(skeleton) }
        guard let fields = fields(node, path, allowed: Self.stepFields) else { return nil }
        let errorCount = errors.count
        let id = required(fields, "id").flatMap {
            name(
                $0, fields.path("id"), pattern: .stepID,
                description: "a step id matching ^[a-z][a-z0-9_-]{0,63}$")
        }
        skeleton.id = id
        skeleton.idPosition = fields["id"]?.position ?? node.position
        var needs: [String] = []
        if let needsNode = fields["needs"], let elements = list(needsNode, fields.path("needs")) {
            for (position, element) in elements.enumerated() {
                let elementPath = FlowPath.index(fields.path("needs"), position)
                guard let need = string(element, elementPath) else { continue }
                if needs.contains(need) {
                    fail(
                        .invalidValue, at: element.position, elementPath,
                        "expected each step once; '\(FlowError.quoted(need))' is listed twice")
                    continue
                }
                needs.append(need)
                skeleton.needs.append((need, element.position, elementPath))
            }
        }
        let condition = fields["if"].flatMap { template($0, fields.path("if"), step: index) }
        let kind = decodeKind(fields, step: index)
        let kindNames = StepKind.names.filter { fields.has($0) }
        skeleton.kind = kindNames.first
        skeleton.hasApproval = kindNames.contains("approval")
        if let outputsNode = fields["outputs"], case .mapping(let entries) = outputsNode.value {
            skeleton.outputNames = Set(entries.map(\.key))
        }
        if case .approval(let gate) = kind, let target = gate.requestChanges,
            let node = fields["approval"]?.node(at: JSONPointer(tokens: ["request_changes", "step"]))
        {
            skeleton.requestChanges = (
                target.step, node.position, fields.path("approval") + ".request_changes.step"
            )
        }
        let retry = fields["retry"].flatMap { decodeRetry($0, fields.path("retry")) }
        let timeout = fields["timeout"].flatMap { duration($0, fields.path("timeout")) }
        let queueTimeout = fields["queue_timeout"].flatMap { duration($0, fields.path("queue_timeout")) }
        let concurrency = fields["concurrency"].flatMap {
            decodeConcurrency($0, fields.path("concurrency"), step: index)
        }
        let runsOn = fields["runs_on"].map { decodeLabels($0, fields.path("runs_on")) } ?? []
        let outputs = fields["outputs"].map { decodeOutputs($0, fields.path("outputs")) } ?? [:]
        var map: StepMap?
        if let node = fields["map"] {
            skeleton.isMapped = true
            map = decodeMap(node, fields.path("map"), kind: kind, step: index)
        }
        guard errors.count == errorCount, let id, let kind else { return nil }
        return StepDefinition(
            id: id, needs: needs.sorted(), condition: condition, kind: kind, retry: retry, timeout: timeout,
            queueTimeout: queueTimeout, concurrency: concurrency, runsOn: runsOn, outputs: outputs, map: map)
    }

    /// `map: {over, max_concurrency}`, on a `run`, `http`, `ssh` or `noop` step without a wait: an element
    /// ends when its work does, so the map can count and gather them.
    mutating func decodeMap(_ node: SourceNode, _ path: String, kind: StepKind?, step: Int) -> StepMap? {
        guard let fields = fields(node, path, allowed: ["over", "max_concurrency"]) else { return nil }
        let over = required(fields, "over").flatMap { template($0, fields.path("over"), step: step) }
        let limit =
            fields["max_concurrency"].map {
                integer($0, fields.path("max_concurrency"), in: 1...StepMap.maximumElements)
            } ?? 10
        if let kind, ["approval", "wait", "flow"].contains(kind.name) || kind.waitCondition != nil {
            fail(
                .invalidValue, at: node.position, path,
                "expected map on a run, http, ssh, agent or noop step without wait; got a \(kind.name) step"
                    + (kind.waitCondition != nil && kind.name != "wait" ? " with wait" : ""))
            return nil
        }
        guard let over, let limit else { return nil }
        return StepMap(over: over, maxConcurrency: limit)
    }

    mutating func decodeRetry(_ node: SourceNode, _ path: String) -> RetryPolicy? {
        let allowed = ["max_attempts", "backoff", "initial", "max", "jitter", "on"]
        guard let fields = fields(node, path, allowed: allowed) else { return nil }
        let errorCount = errors.count
        let maxAttempts = required(fields, "max_attempts").flatMap {
            integer($0, fields.path("max_attempts"), in: 1...100)
        }
        let backoff = fields["backoff"].flatMap {
            oneOf($0, fields.path("backoff"), RetryPolicy.Backoff.allCases.map(\.rawValue)).flatMap(
                RetryPolicy.Backoff.init(rawValue:))
        }
        let initial = fields["initial"].flatMap { duration($0, fields.path("initial")) }
        let maximum = fields["max"].flatMap { duration($0, fields.path("max")) }
        let jitter = fields["jitter"].flatMap { bool($0, fields.path("jitter")) }
        var on: Set<ErrorClass> = RetryPolicy.defaultOn
        if let onNode = fields["on"], let elements = list(onNode, fields.path("on"), nonEmpty: true) {
            on = []
            for (index, element) in elements.enumerated() {
                let options = ErrorClass.allCases.map(\.rawValue)
                if let name = oneOf(element, FlowPath.index(fields.path("on"), index), options),
                    let errorClass = ErrorClass(rawValue: name)
                {
                    on.insert(errorClass)
                }
            }
        }
        let start = initial ?? RetryPolicy.defaultInitial
        if let maximum, maximum < start, let maxNode = fields["max"] {
            fail(
                .invalidValue, at: maxNode.position, fields.path("max"),
                "expected at least the initial delay \(start); got \(maximum)")
        }
        guard errors.count == errorCount, let maxAttempts else { return nil }
        return RetryPolicy(
            maxAttempts: maxAttempts, backoff: backoff ?? .exponential,
            initial: initial ?? RetryPolicy.defaultInitial,
            maximum: maximum, jitter: jitter ?? true, on: on)
    }

    /// `runs_on: gpu` or `runs_on: [gpu, linux]`; kept sorted, as it is a set.
    mutating func decodeLabels(_ node: SourceNode, _ path: String) -> [String] {
        let description = "a pool label matching ^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$"
        if node.stringValue != nil {
            return name(node, path, pattern: .principal, description: description).map { [$0] } ?? []
        }
        guard let elements = list(node, path, nonEmpty: true) else { return [] }
        var labels: Set<String> = []
        for (index, element) in elements.enumerated() {
            if let label = name(
                element, FlowPath.index(path, index), pattern: .principal, description: description)
            {
                labels.insert(label)
            }
        }
        return labels.sorted()
    }

    mutating func decodeOutputs(_ node: SourceNode, _ path: String) -> [String: StepOutput] {
        guard case .mapping(let entries) = node.value else {
            wrongType(node, path, expected: "a mapping of output names")
            return [:]
        }
        var outputs: [String: StepOutput] = [:]
        for entry in entries {
            let entryPath = FlowPath.child(path, entry.key)
            guard NamePattern.stepID.matches(entry.key) else {
                fail(
                    .invalidName, at: entry.keyPosition, entryPath,
                    "expected an output name matching ^[a-z][a-z0-9_-]{0,63}$; got '\(FlowError.quoted(entry.key))'"
                )
                continue
            }
            if entry.value.stringValue == "inline" {
                outputs[entry.key] = .inline
                continue
            }
            guard case .mapping = entry.value.value else {
                wrongType(entry.value, entryPath, expected: "'inline' or a mapping {resource, type}")
                continue
            }
            guard let fields = fields(entry.value, entryPath, allowed: ["resource", "type"]) else { continue }
            let resource = required(fields, "resource").flatMap { string($0, fields.path("resource")) }
            let type = required(fields, "type").flatMap {
                name(
                    $0, fields.path("type"), pattern: .mediaType, description: "a media type like text/plain")
            }
            if let type,
                type.split(separator: "/", omittingEmptySubsequences: false).count != 2
                    || type.hasSuffix("/"), let typeNode = fields["type"]
            {
                fail(
                    .invalidValue, at: typeNode.position, fields.path("type"),
                    "expected a media type like text/plain (type/subtype); got '\(FlowError.quoted(type))'")
                continue
            }
            if let resource, let type {
                outputs[entry.key] = .resource(name: resource, mediaType: type)
            }
        }
        return outputs
    }
}

extension NamePattern {
    /// `type/subtype` without parameters, e.g. `text/x-diff`, `application/vnd.keel+json`.
    static let mediaType = NamePattern(
        first: { ("a"..."z").contains($0) },
        rest: {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || "/.+-_".unicodeScalars.contains($0)
        }, maximumLength: 255)
}
