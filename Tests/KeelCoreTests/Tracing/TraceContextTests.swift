import KeelCore
import Testing

@Suite struct TraceContextTests {
    @Test func aValidTraceparentRoundTrips() throws {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let context = try #require(TraceContext(traceparent: header))
        #expect(context.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(context.spanID == "00f067aa0ba902b7")
        #expect(context.isSampled)
        #expect(context.traceparent == header)
    }

    @Test(arguments: [
        "", "00", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
    ])
    func malformedHeadersAreRefused(_ header: String) {
        #expect(TraceContext(traceparent: header) == nil)
    }

    @Test func aLaterVersionMayAddFields() {
        let context = TraceContext(
            traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-more")
        #expect(context?.isSampled == false)
        #expect(context?.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
    }

    @Test func aChildKeepsTheTraceWithANewSpan() throws {
        var generator = SplitMix64(seed: 7)
        let root = TraceContext.start(using: &generator)
        let child = root.child(using: &generator)
        #expect(child.traceID == root.traceID)
        #expect(child.spanID != root.spanID)
        #expect(child.flags == root.flags)
        #expect(TraceContext(traceparent: root.traceparent) == root)
        #expect(TraceContext(traceparent: child.traceparent) == child)
        #expect(root.traceID.count == 32 && root.spanID.count == 16)
    }
}
