import SSHClient
import KeelTestSupport
import Testing

extension SSHServerTests {
    @Suite("Streaming")
    struct Streaming {
        @Test("chunks keep each stream's order and the exit status comes last")
        func order() async throws {
            try await TestSSH.withSession { session async throws in
                var stdout: [UInt8] = []
                var stderr: [UInt8] = []
                var events: [SSHOutput] = []
                for try await event in session.stream(
                    "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; exit 7")
                {
                    events.append(event)
                    switch event {
                    case .stdout(let bytes): stdout += bytes
                    case .stderr(let bytes): stderr += bytes
                    case .exit: break
                    }
                }
                #expect(String(decoding: stdout, as: UTF8.self) == "out1\nout2\nout3\nout4\nout5\n")
                #expect(String(decoding: stderr, as: UTF8.self) == "err1\nerr2\nerr3\nerr4\nerr5\n")
                #expect(events.last == .exit(7))
                #expect(events.filter { if case .exit = $0 { true } else { false } }.count == 1)
            }
        }

        @Test("output is delivered while the command is still running")
        func deliveredLive() async throws {
            try await TestSSH.withSession { session async throws in
                let directory = try await session.execute("mktemp -d").stdoutText.filter { !$0.isNewline }
                #expect(!directory.isEmpty)
                // The command waits (at most 60 s) for a file that this test creates only after it has seen
                // "ready": if output were held back until the end, the test would time out instead.
                let command =
                    "echo ready; i=0; while [ ! -e \(directory)/go ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; "
                    + "echo done >&2; rm -rf \(directory); exit 4"
                var events: [SSHOutput] = []
                try await TestSSH.withSession { signaller async throws in
                    for try await event in session.stream(command, timeout: .seconds(90)) {
                        events.append(event)
                        if event == .stdout(Array("ready\n".utf8)) {
                            _ = try await signaller.execute("touch \(directory)/go")
                        }
                    }
                }
                #expect(
                    events == [.stdout(Array("ready\n".utf8)), .stderr(Array("done\n".utf8)), .exit(4)])
            }
        }

        @Test("cancelling the consuming task stops the stream and the remote command")
        func cancellation() async throws {
            let marker = "29.\(Int.random(in: 100_000...999_999))"
            try await TestSSH.withSession { session async throws in
                let consumer = Task {
                    var events: [SSHOutput] = []
                    for try await event in session.stream("echo started; exec sleep \(marker)") {
                        events.append(event)
                        withUnsafeCurrentTask { $0?.cancel() }
                    }
                    return events
                }
                let started = ContinuousClock.now
                let events = try await consumer.value
                #expect(ContinuousClock.now - started < .seconds(15))
                #expect(events == [.stdout(Array("started\n".utf8))])
                #expect(
                    await eventually {
                        TestSSH.localProcesses(withArguments: ["sleep", marker]).isEmpty
                    })
                // The session survives the cancelled command.
                #expect(try await session.execute("echo alive").stdoutText == "alive\n")
            }
        }

        @Test("a stream past its timeout ends with timeout after the output so far")
        func streamTimeout() async throws {
            try await TestSSH.withSession { session async throws in
                var events: [SSHOutput] = []
                let started = ContinuousClock.now
                do {
                    for try await event in session.stream("echo early; sleep 30", timeout: .seconds(1)) {
                        events.append(event)
                    }
                    Issue.record("the stream ended without an error")
                } catch let error as SSHError {
                    #expect(error.code == .timeout)
                }
                #expect(events == [.stdout(Array("early\n".utf8))])
                #expect(ContinuousClock.now - started < .seconds(10))
            }
        }

        @Test("closing the session ends a running stream with connectionClosed")
        func closeDuringStream() async throws {
            let session = try await SSHSession.connect(
                try TestSSH.configuration(), logger: TestSSH.logger)
            let stream = session.stream("echo started; sleep 30")
            var iterator = stream.makeAsyncIterator()
            #expect(try await iterator.next() == .stdout(Array("started\n".utf8)))
            let started = ContinuousClock.now
            await session.close()
            do {
                while try await iterator.next() != nil {}
                Issue.record("the stream ended without an error")
            } catch let error as SSHError {
                #expect(error.code == .connectionClosed)
            }
            #expect(ContinuousClock.now - started < .seconds(15))
        }
    }
}
