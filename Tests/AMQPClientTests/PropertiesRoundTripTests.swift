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
