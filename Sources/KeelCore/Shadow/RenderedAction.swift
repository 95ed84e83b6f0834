/// What an attempt of a step would do, its templates evaluated, as one JSON object that compares equal
/// exactly when the work would be the same: `kind` and the fields that kind renders (argv, env, HTTP
/// method, URL, headers and body, ssh host and command, agent adapter, prompt and argv, approval summary and bound values, sub-flow
/// name and input). Secrets are never resolved: `${{ secrets.X }}` renders as `«secret:X»`.
///
/// A template that cannot be evaluated renders as `{"kind": "error", "field": ..., "message": ...}`:
/// the attempt would fail at once, which is also something to compare.
public struct RenderedAction: Sendable, Hashable {
    /// The documented shape (docs/flows.md, "Shadow runs").
    public var json: JSONObject

    public init(json: JSONObject) {
        self.json = json
    }

    /// The action `step` (of the flow version the attempt runs) renders to with `context`, for the kinds
    /// an executor runs (`run`, `http`, `ssh`, `agent`, `noop`) and `wait`, whose definition is its action.
    public static func dispatched(_ step: StepDefinition, context: ExpressionContext) -> RenderedAction {
        var renderer = StepActionRenderer.withSecretPlaceholders(context: context)
        do {
            switch step.kind {
            case .run(let action):
                let rendered = try RenderedRunAction(action, renderer: &renderer)
                var json: JSONObject = [
                    "kind": "run", "command": .array(rendered.arguments.map(JSONValue.string)),
                    "env": environment(rendered.environment),
                ]
                if let directory = rendered.workingDirectory { json["working_dir"] = .string(directory) }
                if !rendered.standardInput.isEmpty {
                    json["stdin"] = .string(String(decoding: rendered.standardInput, as: UTF8.self))
                }
                if let timeout = rendered.timeout { json["timeout"] = .string(timeout.description) }
                if let wait = action.wait { json["wait"] = waitJSON(wait) }
                return RenderedAction(json: json)
            case .http(let action):
                let rendered = try RenderedHTTPRequest(action, renderer: &renderer)
                var headers = JSONObject()
                for header in rendered.headers { headers[header.name] = .string(header.value) }
                var json: JSONObject = [
                    "kind": "http", "method": .string(rendered.method), "url": .string(rendered.url),
                    "headers": .object(headers),
                ]
                if let body = rendered.body { json["body"] = body }
                if let timeout = action.timeout { json["timeout"] = .string(timeout.description) }
                return RenderedAction(json: json)
            case .ssh(let action):
                let rendered = try RenderedSSHAction(action, renderer: &renderer)
                var json: JSONObject = [
                    "kind": "ssh", "host": .string(rendered.host),
                    "command": .array(rendered.arguments.map(JSONValue.string)),
                    "env": environment(rendered.environment),
                ]
                if let timeout = action.timeout { json["timeout"] = .string(timeout.description) }
                if let wait = action.wait { json["wait"] = waitJSON(wait) }
                return RenderedAction(json: json)
            case .agent(let action):
                let rendered = try RenderedAgentAction(action, renderer: &renderer)
                let process = rendered.process(prompt: rendered.prompt)
                var json: JSONObject = [
                    "kind": "agent", "adapter": .string(rendered.adapter.rawValue),
                    "prompt": .string(rendered.prompt), "working_dir": .string(rendered.workingDirectory),
                    "command": .array(process.arguments.map(JSONValue.string)),
                    "env": environment(process.environment),
                ]
                if let timeout = rendered.timeout { json["timeout"] = .string(timeout.description) }
                return RenderedAction(json: json)
            case .wait(let wait):
                var json = waitJSON(wait).objectValue ?? [:]
                json["kind"] = "wait"
                return RenderedAction(json: json)
            case .noop:
                return RenderedAction(json: ["kind": "noop"])
            case .approval, .subflow:
                // The reducer renders these itself: see `approval(_:)` and `subflow(_:)`.
                return RenderedAction(json: ["kind": .string(step.kind.name)])
            }
        } catch {
            return RenderedAction(json: [
                "kind": "error", "field": .string(error.field), "message": .string(error.message),
            ])
        }
    }

    /// An approval gate as the reducer asked for it (`approval.requested`): its summary and bound values.
    public static func approval(_ request: ApprovalRequest) -> RenderedAction {
        RenderedAction(json: [
            "kind": "approval", "summary": request.summary.map(JSONValue.string) ?? .null,
            "bound": .array(request.bound),
        ])
    }

    /// A `flow` step's child run as the reducer asked for it (`subflow.started`).
    public static func subflow(_ request: SubflowRequest) -> RenderedAction {
        RenderedAction(json: ["kind": "flow", "flow": .string(request.flow), "input": request.input])
    }

    /// One line for people: the kind, then each field as compact JSON, in name order.
    public var summary: String {
        let kind = json["kind"]?.stringValue ?? "?"
        let fields = json.keys.filter { $0 != "kind" }.sorted().compactMap { key in
            json[key].map { "\(key)=\($0.jsonString(.compact))" }
        }
        return ([kind] + fields).joined(separator: " ")
    }

    private static func environment(_ environment: [String: String]) -> JSONValue {
        var object = JSONObject()
        for name in environment.keys.sorted() { object[name] = .string(environment[name] ?? "") }
        return .object(object)
    }

    private static func waitJSON(_ wait: WaitCondition) -> JSONValue {
        var json: JSONObject = ["timeout": .string(wait.timeout.description)]
        if let heartbeat = wait.heartbeat { json["heartbeat"] = .string(heartbeat.description) }
        if let schema = wait.schema { json["schema"] = schema }
        return .object(json)
    }
}
