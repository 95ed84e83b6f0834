import AMQPClient
import Foundation
import KeelCore
import KeelTestSupport
import Testing

/// W3C trace context end to end: the trace a trigger brings is the run's trace in all four
/// services — trigger-intake, step-executor, approval-service and callback-gateway — in the messages
/// between them and in the callback a remote worker sends back.
@Suite(.serialized) struct TraceFlowTests {
    /// An approval gate, then a program that calls back (with the `TRACEPARENT` it was given) before its
    /// wait opens, so the callback is kept and applied when the wait opens.
    static func tracedFlow(keel: String) -> String {
        """
        flow: traced
        steps:
          - id: gate
            approval: {approvers: [alice]}
          - id: job
            needs: [gate]
            run:
              command:
                - sh
                - -c
                - '"$0" callback --status succeeded --output "{\\"traceparent\\": \\"$TRACEPARENT\\"}"'
                - \(keel)
            wait: {timeout: 10m}
          - id: after
            needs: [job]
            noop: {}
        """
    }

    static let plainFlow = """
        flow: untraced
        steps:
          - id: only
            noop: {}
        """

    /// The trigger's own trace: what every service must go on with.
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let triggerSpan = "00f067aa0ba902b7"

    @Test func oneTraceFollowsARunFromItsTriggerThroughItsApprovalToItsCallback() async throws {
        let testbed = try CallbackTestbed()
        defer { testbed.remove() }
        let keel = ServiceProcess.binDirectory.appendingPathComponent("keel").path
        let stack = try await EngineStack(
            flows: [Self.tracedFlow(keel: keel), Self.plainFlow],
            environment: [
                "KEEL_CALLBACK_KEYS": testbed.keysSetting, "KEEL_CALLBACK_GATEWAY_URL": testbed.gatewayURL,
                "KEEL_RUN_PATH": "/usr/bin:/bin", "KEEL_LOG_LEVEL": "debug",
            ])
        do {
            try await body(stack, testbed)
        } catch {
            try? await stack.stop()
            throw error
        }
        try await stack.stop()
    }

    func body(_ stack: EngineStack, _ testbed: CallbackTestbed) async throws {
        let gateway = try await stack.startCallbackGateway(port: testbed.gatewayPort)
        let approvals = ApprovalFlowTests.Client(url: try await stack.startApprovalService())
        let alice = try await stack.token("alice")
        // Every event of the run, and its run.finished reply, land here.
        let seen = "trace-test-\(UUID().uuidString)"
        try await stack.channel.declareQueue(seen, durable: false, exclusive: true)
        try await stack.channel.bindQueue(seen, exchange: "keel.events", routingKey: "#")

        try await stack.trigger(
            "traced", key: "traced", replyTo: seen,
            traceparent: "00-\(Self.traceID)-\(Self.triggerSpan)-01")
        let run = try await stack.runID(key: "traced", flow: "traced")

        // approval-service: the approval names the run's trace, and the decision's log line carries it.
        let pending = try await approvals.pending(run: run, step: "gate", token: alice)
        #expect(pending["trace_id"] as? String == Self.traceID)
        let id = try #require(pending["id"] as? String)
        #expect(try await approvals.decide(id, "approve", token: alice).status == 200)
        #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")

        // The program was handed a span of the run's trace and sent it back with its callback.
        let callback = try #require(
            try await stack.history(run).compactMap { fact -> JSONValue? in
                guard case .callbackReceived(_, _, _, let output) = fact.event else { return nil }
                return output
            }.first)
        let handed = try #require(
            callback.objectValue?["traceparent"]?.stringValue.flatMap(TraceContext.init(traceparent:)),
            "the program's TRACEPARENT: \(callback)")
        #expect(handed.traceID == Self.traceID)
        #expect(handed.spanID != Self.triggerSpan, "the attempt is a span of its own")

        // The messages between the services: every event of the run and its reply continue the trace.
        var messages: [AMQPDelivery] = []
        while let delivery = try await stack.channel.get(queue: seen) {
            try await stack.channel.ack(delivery)
            messages.append(delivery)
        }
        let types = messages.compactMap { $0.properties.headers["keel-type"]?.stringValue }
        #expect(types.contains("run.finished"), "\(types)")
        #expect(types.contains("approval.requested"), "\(types)")
        for message in messages {
            let trace = message.properties.headers["traceparent"]?.stringValue.flatMap(
                TraceContext.init(traceparent:))
            #expect(trace?.traceID == Self.traceID, "\(String(describing: message.properties.headers))")
        }

        // Each service's log has a line about this run in this trace.
        for (service, log) in [
            ("trigger-intake", stack.intake.output),
            ("step-executor", stack.executors.map(\.output).joined(separator: "\n")),
            ("approval-service", stack.approvalService?.output ?? ""),
            ("callback-gateway", stack.callbackGateway?.output ?? ""),
        ] {
            let lines = log.split(separator: "\n").filter {
                $0.contains("trace_id=\(Self.traceID)") && $0.contains(run)
            }
            #expect(
                !lines.isEmpty, "\(service) logged nothing about \(run) in trace \(Self.traceID):\n\(log)")
        }
        _ = gateway

        // A trigger whose traceparent is malformed starts a trace of its own rather than losing one.
        try await stack.trigger("untraced", key: "untraced", traceparent: "00-not-a-trace-01")
        let other = try await stack.runID(key: "untraced", flow: "untraced")
        #expect(try await stack.finish(other, expected: "succeeded") == "succeeded")
        let started = try await stack.history(other).compactMap { fact -> TraceContext? in
            guard case .runTriggered(let trigger) = fact.event else { return nil }
            return trigger.traceparent.flatMap(TraceContext.init(traceparent:))
        }.first
        let fresh = try #require(started, "the run has no trace")
        #expect(fresh.traceID != Self.traceID && fresh.isSampled)
    }
}
