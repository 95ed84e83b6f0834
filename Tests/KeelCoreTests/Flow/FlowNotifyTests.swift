import Testing

@testable import KeelCore

/// `notify:`: webhooks a flow names, with defaults, the canonical form and every refusal positioned.
@Suite("Flow notify")
struct FlowNotifyTests {
    static let steps = "steps:\n  - id: a\n    noop: {}\n"

    private func only(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> FlowError {
        let errors = FlowTest.errors(yaml, sourceLocation: sourceLocation)
        #expect(errors.count == 1, "\(errors)", sourceLocation: sourceLocation)
        return try #require(errors.first, sourceLocation: sourceLocation)
    }

    @Test("an entry gets every event and the standard format unless it names them")
    func defaults() throws {
        let flow = try FlowTest.parse(
            """
            flow: demo
            notify:
              - url: https://hooks.example.com/keel
              - {url: "http://127.0.0.1:9000/x", events: [run.failed, approval.requested], format: slack}
            \(Self.steps)
            """)
        #expect(flow.notify.count == 2)
        #expect(flow.notify[0] == FlowNotification(url: "https://hooks.example.com/keel"))
        #expect(flow.notify[0].events.count == 4)
        #expect(flow.notify[1].events == [.runFailed, .approvalRequested])
        #expect(flow.notify[1].format == .slack)
    }

    @Test("the canonical form omits defaults and round-trips")
    func canonicalForm() throws {
        let flow = try FlowTest.parse(
            """
            flow: demo
            notify:
              - url: https://a.example/hook
              - {url: "https://b.example/hook", events: [run.failed, approval.decided], format: slack}
            \(Self.steps)
            """)
        let notify = flow.jsonValue["notify"]
        #expect(notify?[0] == ["url": "https://a.example/hook"])
        #expect(
            notify?[1]
                == [
                    "url": "https://b.example/hook", "events": ["approval.decided", "run.failed"],
                    "format": "slack",
                ])
        #expect(try FlowDefinition(canonicalJSON: flow.jsonValue) == flow)
        // A flow without notify keeps the canonical form (and hash) it had before the field existed.
        let plain = try FlowTest.parse("flow: demo\n" + Self.steps)
        #expect(plain.jsonValue["notify"] == nil)
    }

    @Test("a URL that is not http(s) is refused where it is written")
    func notHTTP() throws {
        let error = try only("flow: demo\nnotify:\n  - url: ftp://files.example/x\n" + Self.steps)
        #expect(error.code == .invalidValue)
        #expect(error.path == "notify[0].url")
        #expect(error.line == 3 && error.column == 10)
        #expect(error.message == "expected an absolute http:// or https:// URL; got 'ftp://files.example/x'")
    }

    @Test(
        "templates, credentials, hostless and spaced URLs are refused",
        arguments: [
            "${{ input.hook }}", "https://user:pass@hooks.example/x", "https://", "http:///path",
            "https://a.example/x y", "file:///etc/passwd", "javascript:alert(1)",
        ])
    func hostileURLs(url: String) throws {
        let error = try only("flow: demo\nnotify:\n  - url: '\(url)'\n" + Self.steps)
        #expect(error.code == .invalidValue)
        #expect(error.path == "notify[0].url")
    }

    @Test("an unknown event name is refused with the names it may be")
    func unknownEvent() throws {
        let error = try only(
            "flow: demo\nnotify:\n  - url: https://a.example\n    events: [approval.requested, run.succeeded]\n"
                + Self.steps)
        #expect(error.code == .invalidValue)
        #expect(error.path == "notify[0].events[1]")
        #expect(error.line == 4 && error.column == 34)
        #expect(
            error.message
                == "expected one of approval.requested, approval.reminder, approval.decided, run.failed; got 'run.succeeded'"
        )
    }

    @Test("an unknown format, an unknown field and an empty event list are refused")
    func otherFields() throws {
        let format = try only(
            "flow: demo\nnotify: [{url: 'https://a.example', format: teams}]\n" + Self.steps)
        #expect(format.path == "notify[0].format")
        #expect(format.message == "expected one of standard, slack; got 'teams'")
        let field = try only("flow: demo\nnotify: [{url: 'https://a.example', secret: x}]\n" + Self.steps)
        #expect(field.code == .unknownField)
        #expect(field.path == "notify[0].secret")
        let empty = try only("flow: demo\nnotify: [{url: 'https://a.example', events: []}]\n" + Self.steps)
        #expect(empty.path == "notify[0].events")
        let missing = try only("flow: demo\nnotify: [{format: slack}]\n" + Self.steps)
        #expect(missing.code == .missingField)
        #expect(missing.path == "notify[0]")
        let notAList = try only("flow: demo\nnotify: https://a.example\n" + Self.steps)
        #expect(notAList.code == .wrongType)
        #expect(notAList.path == "notify")
    }

    @Test("more than ten entries are refused")
    func tooMany() throws {
        let entries = (0..<11).map { "  - url: https://a.example/\($0)\n" }.joined()
        let error = try only("flow: demo\nnotify:\n" + entries + Self.steps)
        #expect(error.code == .limitExceeded)
        #expect(error.path == "notify")
        #expect(error.message == "expected at most 10 notify entries; got 11")
    }

    @Test("an event's routing key names the event")
    func routingKeys() {
        #expect(NotificationEvent(routingKey: "approval.requested.deploy") == .approvalRequested)
        #expect(NotificationEvent(routingKey: "run.failed.my.flow") == .runFailed)
        #expect(NotificationEvent(routingKey: "run.succeeded.deploy") == nil)
        #expect(NotificationEvent(routingKey: "run.failed") == nil)
    }
}
