import PGClient
import KeelTestSupport
import Testing

extension PGClientTests {
    @Suite struct Notifications {
        @Test func deliversSeveralInOrderWithPayloadIntact() async throws {
            try await PGTest.withPool(size: 2) { pool in
                let channel = PGTest.uniqueName("Chan")
                let notifications = try await pool.listen(channel)
                let payloads = [
                    "first", "", "ünïcödé ✓ 🐘", "with 'quotes' and \"double\"",
                    String(repeating: "x", count: 4000),
                ]
                let senderPID = try await pool.withConnection { connection in
                    for payload in payloads {
                        try await connection.execute("SELECT pg_notify(\(channel), \(payload))")
                    }
                    return try await connection.query("SELECT pg_backend_pid()")[0].decode((Int).self)
                }
                let received = try await PGTest.within(.seconds(20), "5 notifications") {
                    var received: [PGNotification] = []
                    for await notification in notifications {
                        received.append(notification)
                        if received.count == payloads.count { break }
                    }
                    return received
                }
                #expect(received.map(\.payload) == payloads)
                #expect(received.allSatisfy { $0.channel == channel })
                #expect(received.allSatisfy { $0.pid == senderPID })
            }
        }

        @Test func notificationsOfOtherChannelsAreNotDelivered() async throws {
            try await PGTest.withPool(size: 1) { pool in
                let channel = PGTest.uniqueName("mine")
                let notifications = try await pool.listen(channel)
                try await pool.withConnection { connection in
                    try await connection.execute("SELECT pg_notify(\(channel + "_other"), 'not for us')")
                    try await connection.execute("SELECT pg_notify(\(channel), 'for us')")
                }
                let first = try await PGTest.within(.seconds(20), "a notification") {
                    var iterator = notifications.makeAsyncIterator()
                    return await iterator.next()
                }
                #expect(first?.payload == "for us")
            }
        }

        /// Cancelling the consuming Task ends the stream and closes the listening connection.
        @Test func streamEndsWhenConsumerIsCancelled() async throws {
            let applicationName = PGTest.uniqueName("listen-cancel")
            try await PGTest.withPool(size: 1, applicationName: applicationName) { pool in
                let notifications = try await pool.listen(PGTest.uniqueName("chan"))
                let consumer = Task {
                    var count = 0
                    for await _ in notifications { count += 1 }
                    return count
                }
                try await PGTest.withConnection(applicationName: "keel-pgclient-observer") { observer in
                    try await waitUntil("the listen connection appears", within: .seconds(10)) {
                        try await PGTest.backendCount(applicationName: applicationName, using: observer) == 1
                    }
                    consumer.cancel()
                    let count = try await PGTest.within(.seconds(10), "the stream ends") {
                        await consumer.value
                    }
                    #expect(count == 0)
                    try await waitUntil("the listen connection closes", within: .seconds(10)) {
                        try await PGTest.backendCount(applicationName: applicationName, using: observer) == 0
                    }
                }
            }
        }

        @Test func listenOnClosedPoolFails() async throws {
            let pool = PGPool(configuration: try PGTest.configuration(), size: 1, logger: PGTest.logger)
            await pool.close()
            let error = await #expect(throws: PGError.self) { try await pool.listen("anything") }
            #expect(error?.code == .poolClosed)
        }
    }
}
