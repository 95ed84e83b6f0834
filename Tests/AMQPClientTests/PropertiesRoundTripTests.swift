import AMQPClient
import Foundation
import Testing

extension AMQPBrokerTests {
    /// Every property and every field type (nested tables and arrays included) survives
    /// Swift → C → broker → C → Swift, through both a consumer and basic.get.
    @Test func propertiesAndHeaderTablesRoundTrip() async throws {
        let connection = try await AMQPTest.connect()
        let channel = try await connection.openChannel()
        let queue = AMQPTest.name("roundtrip")
        try await channel.declareQueue(queue, durable: false, autoDelete: true)
        try await channel.enablePublisherConfirms()

        let when = Date(timeIntervalSince1970: 1_700_000_000)
        let headers: AMQPTable = [
            "bool": .bool(true), "false": .bool(false),
            "int8": .int8(-8), "uint8": .uint8(200), "int16": .int16(-1600), "uint16": .uint16(60_000),
            "int32": .int32(-32_000_000), "uint32": .uint32(4_000_000_000), "int64": .int64(-(1 << 40)),
            "float": .float(1.5), "double": .double(-2.25), "decimal": .decimal(scale: 2, value: 12345),
            "string": .string("héllo wörld ✓"), "empty": .string(""), "bytes": .bytes([0, 1, 2, 255]),
            "timestamp": .timestamp(when), "void": .void,
            "array": .array([
                .int64(1), .string("two"), .array([.bool(false)]), .table(["k": .double(3)]),
            ]),
            "table": .table([
                "nested": .table(["deeper": .array([.string("x"), .int16(7)])]), "emptyTable": .table([:]),
                "emptyArray": .array([]),
            ]),
        ]
        let full = AMQPProperties(
            contentType: "application/json", contentEncoding: "identity", headers: headers,
            deliveryMode: .transient,
            priority: 7, correlationID: "corr-1", replyTo: "replies", expiration: "600000",
            messageID: "m-1",
            timestamp: when, type: "keel.test", userID: "keel", appID: "keel-tests")
        let minimal = AMQPProperties()

        try await channel.publish([1, 2, 3], exchange: "", routingKey: queue, properties: full)
        try await channel.publish([], exchange: "", routingKey: queue, properties: minimal)

        let viaGet = try #require(try await channel.get(queue: queue))
        #expect(viaGet.properties == full)
        #expect(viaGet.body == [1, 2, 3])
        #expect(viaGet.consumerTag == nil)
        #expect(viaGet.messageCount == 1)
        try await channel.reject(viaGet, requeue: true)

        let consumer = try await channel.consume(queue: queue, consumerTag: "roundtrip-consumer")
        var iterator = consumer.makeAsyncIterator()
        let first = try #require(try await iterator.next())
        let second = try #require(try await iterator.next())
        #expect(first.properties == full)
        #expect(first.redelivered)
        #expect(first.consumerTag == "roundtrip-consumer")
        #expect(
            first.properties.headers["table"]?.tableValue?["nested"]?.tableValue?["deeper"] == [
                .string("x"), .int16(7),
            ])
        #expect(second.properties == minimal)
        #expect(second.properties.deliveryMode == .persistent)
        #expect(second.body.isEmpty)
        try await channel.ack(first)
        try await channel.ack(second)
        await connection.close()
    }

    /// Bodies larger than a frame are split by librabbitmq and reassembled by the client.
    @Test func bodiesLargerThanAFrameRoundTrip() async throws {
        let connection = try await AMQPTest.connect()
        let channel = try await connection.openChannel()
        let queue = AMQPTest.name("large")
        try await channel.declareQueue(queue, durable: false, autoDelete: true)
        try await channel.enablePublisherConfirms()
        let body = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await channel.publish(body, exchange: "", routingKey: queue)
        let delivery = try #require(try await channel.get(queue: queue))
        #expect(delivery.body == body)
        try await channel.ack(delivery)
        await connection.close()
    }
}

extension AMQPBrokerTests {
    /// A content header is one frame. Properties that fill it to the byte are published; one byte
    /// more is refused before anything is sent, and the same channel goes on publishing, which also
    /// shows `encodedSize` counts every field type exactly as librabbitmq writes it.
    @Test func propertiesLargerThanAFrameAreRefusedAndTheConnectionLives() async throws {
        let connection = try await AMQPTest.connect()
        let channel = try await connection.openChannel()
        let queue = AMQPTest.name("frame")
        try await channel.declareQueue(queue, durable: false, autoDelete: true)
        try await channel.enablePublisherConfirms()

        var properties = AMQPProperties(
            contentType: "application/json",
            headers: [
                "bool": .bool(true), "int8": .int8(-8), "uint8": .uint8(8), "int16": .int16(-16),
                "uint16": .uint16(16), "int32": .int32(-32), "uint32": .uint32(32), "int64": .int64(-64),
                "float": .float(1.5), "double": .double(2.5), "decimal": .decimal(scale: 2, value: 1),
                "bytes": .bytes([0, 1]), "timestamp": .timestamp(Date(timeIntervalSince1970: 1)),
                "void": .void,
                "array": .array([.int64(1), .string("two"), .table(["k": .bool(false)])]),
                "table": .table(["nested": .array([.string("x")])]), "pad": .string(""),
            ],
            priority: 1, correlationID: "c", replyTo: "r", messageID: "m",
            timestamp: Date(timeIntervalSince1970: 2),
            type: "t", appID: "a")
        // The default frame is 131,072 bytes: 7 of frame header and 1 of frame end leave 131,064.
        let limit = 131_064
        let base = properties.encodedSize  // with an empty pad: each pad byte adds one
        properties.headers["pad"] = .string(String(repeating: "p", count: limit - base))
        #expect(properties.encodedSize == limit)
        try await channel.publish(Array("fits".utf8), exchange: "", routingKey: queue, properties: properties)

        properties.headers["pad"] = .string(String(repeating: "p", count: limit - base + 1))
        #expect(properties.encodedSize == limit + 1)
        let error = try await #require(throws: AMQPError.self) {
            try await channel.publish(
                Array("too big".utf8), exchange: "", routingKey: queue, properties: properties)
        }
        #expect(error.code == .propertiesTooLarge(size: limit + 1, limit: limit))

        try await channel.publish(Array("after".utf8), exchange: "", routingKey: queue)
        var bodies: [String] = []
        while let delivery = try await channel.get(queue: queue) {
            bodies.append(String(decoding: delivery.body, as: UTF8.self))
            try await channel.ack(delivery)
        }
        #expect(bodies == ["fits", "after"])
        await connection.close()
    }
}
