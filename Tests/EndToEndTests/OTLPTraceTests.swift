import Foundation
import Hummingbird
import HummingbirdTesting
import KeelCore
import KeelTestSupport
import Synchronization
import Testing

/// Spans exported over OTLP/HTTP (swift-otel, `KEEL_OTLP_ENDPOINT`) to a receiver in this process: one
/// run's trace holds trigger-intake's handling of its trigger, the step-executor's attempt with the
/// transactions and publishes around it, each span under the one that caused it.
@Suite(.serialized) struct OTLPTraceTests {
    static let traceID = "0af7651916cd43dd8448eb211c80319c"
    static let triggerSpan = "b7ad6b7169203331"

    static let flow = """
        flow: otlp-traced
        steps:
          - id: work
            run:
              command: [sh, -c, 'echo "{\\"tp\\": \\"$TRACEPARENT\\"}" > "$KEEL_OUTPUT"']
          - id: after
            needs: [work]
            noop: {}
        """

    /// One exported span, ids in hex.
    struct ExportedSpan: Sendable, Hashable {
        var service: String
        var name: String
        var traceID: String
        var spanID: String
        var parentSpanID: String
    }

    /// What the receiver got: every span of every `POST /v1/traces` (OTLP/HTTP JSON).
    final class Received: Sendable {
        let spans = Mutex<[ExportedSpan]>([])
        let bodies = Mutex(0)

        func take(_ body: [UInt8]) {
            bodies.withLock { $0 += 1 }
            guard let json = try? JSONValue(parsing: body) else { return }
            var found: [ExportedSpan] = []
            for resource in json["resourceSpans"]?.arrayValue ?? [] {
                let service =
                    resource["resource"]?["attributes"]?.arrayValue?.first { $0["key"] == "service.name" }?[
                        "value"]?["stringValue"]?.stringValue ?? "?"
                for scope in resource["scopeSpans"]?.arrayValue ?? [] {
                    for span in scope["spans"]?.arrayValue ?? [] {
                        found.append(
                            ExportedSpan(
                                service: service, name: span["name"]?.stringValue ?? "",
                                traceID: Self.hex(span["traceId"]), spanID: Self.hex(span["spanId"]),
                                parentSpanID: Self.hex(span["parentSpanId"])))
                    }
                }
            }
            spans.withLock { $0 += found }
        }

        /// OTLP/JSON ids, as protobuf's JSON writes bytes (base64), or hex as the specification asks.
        static func hex(_ value: JSONValue?) -> String {
            guard let text = value?.stringValue, !text.isEmpty else { return "" }
            if text.count == 32 || text.count == 16, text.allSatisfy(\.isHexDigit) {
                return text.lowercased()
            }
            guard let data = Data(base64Encoded: text) else { return text }
            return data.map { String(format: "%02x", $0) }.joined()
        }
    }

    /// Spans whose parent is neither exported nor the span the trigger named.
    static func orphans(_ spans: [ExportedSpan]) -> [ExportedSpan] {
        let ids = Set(spans.map(\.spanID))
        return spans.filter { $0.parentSpanID != triggerSpan && !ids.contains($0.parentSpanID) }
    }

    @Test func oneRunsSpansReachTheCollectorInItsTraceEachUnderItsCause() async throws {
        let received = Received()
        let router = Router()
        router.post("v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            received.take(Array(buffer: body))
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: .init(string: "{}")))
        }
        let receiver = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiver.test(.live) { client in
            let port = try #require(client.port)
            let stack = try await EngineStack(
                flows: [Self.flow],
                environment: [
                    "KEEL_OTLP_ENDPOINT": "http://127.0.0.1:\(port)", "KEEL_OTLP_PROTOCOL": "http/json",
                    "OTEL_BSP_SCHEDULE_DELAY": "100",
                ])
            do {
                try await body(stack, received)
            } catch {
                try? await stack.stop()
                throw error
            }
            try await stack.stop()
        }
    }

    func body(_ stack: EngineStack, _ received: Received) async throws {
        try await stack.trigger(
            "otlp-traced", key: "otlp-1", traceparent: "00-\(Self.traceID)-\(Self.triggerSpan)-01")
        let run = try await stack.runID(key: "otlp-1", flow: "otlp-traced")
        #expect(try await stack.finish(run, expected: "succeeded") == "succeeded")

        // Spans are exported in batches; wait for the attempts of both steps.
        var spans: [ExportedSpan] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            spans = received.spans.withLock { $0 }.filter { $0.traceID == Self.traceID }
            // A parent ends (and is exported) after its children: wait until every parent is in.
            if spans.contains(where: { $0.name == "attempt after" })
                && spans.contains(where: { $0.name == "attempt work" })
                && Self.orphans(spans).isEmpty
            {
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let names = Set(spans.map(\.name))
        let summary = spans.map { "\($0.service) \($0.name) \($0.spanID) ← \($0.parentSpanID)" }.joined(
            separator: "\n")
        #expect(
            names.isSuperset(of: [
                "keel.triggers consume", "db.transaction", "attempt work", "attempt after",
                "keel.steps publish",
            ]), "\(received.bodies.withLock { $0 }) bodies:\n\(summary)")
        #expect(Set(spans.map(\.service)).isSuperset(of: ["trigger-intake", "step-executor"]), "\(summary)")

        // The trigger's handling is a child of the span the trigger named; the attempts are children of it.
        let trigger = try #require(spans.first { $0.name == "keel.triggers consume" }, "\(summary)")
        #expect(trigger.parentSpanID == Self.triggerSpan)
        #expect(trigger.service == "trigger-intake")
        let work = try #require(spans.first { $0.name == "attempt work" })
        #expect(work.parentSpanID == trigger.spanID, "\(summary)")
        #expect(work.service == "step-executor")
        // Its transactions are inside it, and the process it ran was handed the attempt's span.
        #expect(
            spans.contains { $0.name == "db.transaction" && $0.parentSpanID == work.spanID }, "\(summary)")
        // One tree: every span but the trigger's handling has its parent among the run's spans.
        #expect(Self.orphans(spans).isEmpty, "\(summary)")
        let outputs = try await stack.history(run).compactMap { fact -> JSONObject? in
            if case .stepSucceeded("work", _, let outputs) = fact.event { return outputs }
            return nil
        }.first
        let handed = try #require(outputs?["tp"]?.stringValue.flatMap(TraceContext.init(traceparent:)))
        #expect(handed.traceID == Self.traceID)
        #expect(handed.spanID == work.spanID)
    }
}
