import Foundation
import KeelTestSupport
import Testing

/// An executor cut off from the database cannot renew its lease; once the lease has passed, another
/// executor may be given the attempt. The cut-off executor must have stopped the attempt's work by
/// then, or the step would run twice at once (DESIGN invariant 5).
@Suite(.serialized) struct LeaseLossTests {
    static let flow = """
        flow: lease-loss
        input:
          type: object
          required: [ticks]
          properties:
            ticks: {type: string}
        steps:
          - id: long
            timeout: 5m
            run: {command: [sh, -c, 'while true; do date +%s%3N >> "$0"; sleep 0.1; done', "${{ input.ticks }}"]}
        """

    @Test func anAttemptWhoseLeaseCannotBeRenewedStopsItsWorkOnceTheLeasePassed() async throws {
        let lease = 3
        let stack = try await EngineStack(flows: [Self.flow], lease: lease, startingExecutor: false)
        let components = try #require(URLComponents(string: stack.database.url))
        let proxy = try StallingProxy(targetPort: try #require(components.port))
        var proxied = components
        proxied.port = proxy.port
        let executor = try await stack.startExecutor([
            "KEEL_DATABASE_URL": try #require(proxied.string), "KEEL_LOG_LEVEL": "info",
        ])
        // The step may run as an unprivileged user of its own: its tick file's folder is open to it.
        let folder = stack.scratch.appendingPathComponent("ticks")
        try FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        let ticks = folder.appendingPathComponent("long.ticks").path
        try await stack.trigger("lease-loss", input: #"{"ticks": "\#(ticks)"}"#)

        func tickCount() -> Int {
            ((try? String(contentsOfFile: ticks, encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        for _ in 0..<600 where tickCount() < 5 { try await Task.sleep(for: .milliseconds(50)) }
        try #require(tickCount() >= 5, "the step did not start:\n\(stack.logs)")

        // The network to the database goes silent: nothing is refused, nothing is answered.
        let cut = Date()
        proxy.stall()
        proxy.stallNewConnections()

        // Give the lease (plus a beat to notice) to pass, then the ticks must have stopped.
        try await Task.sleep(for: .seconds(lease + 3))
        let countAfterLease = tickCount()
        try await Task.sleep(for: .seconds(1))
        #expect(
            tickCount() == countAfterLease, "the step still runs after its lease passed:\n\(executor.output)")
        let lines = ((try? String(contentsOfFile: ticks, encoding: .utf8)) ?? "").split(separator: "\n")
        let lastTick = try #require(lines.last.flatMap { Double($0) }) / 1000
        let stoppedAfter = lastTick - cut.timeIntervalSince1970
        #expect(
            stoppedAfter < Double(lease) + 0.5,
            "the step ran \(stoppedAfter) s after the cut; lease \(lease) s")
        #expect(executor.output.contains("lease passed without a renewal"), "\(executor.output)")
        print(
            "lease-loss: the step stopped \(stoppedAfter) s after the database went silent (lease \(lease) s)"
        )

        proxy.close()
        _ = await executor.stop(signal: SIGKILL)
        try await stack.stop()
    }
}
