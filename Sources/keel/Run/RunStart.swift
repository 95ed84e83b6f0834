import AMQPClient
import ArgumentParser
import Foundation
import KeelCore
import Logging

/// `keel run start FLOW --input JSON|@file`: publishes a trigger exactly as any AMQP client would
/// (DESIGN §4) and prints trigger-intake's answer from `reply_to`.
struct RunStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Trigger a run: publish to keel.triggers and print the run id (or why it was rejected).",
        discussion: """
            The trigger goes through RabbitMQ like any other: trigger-intake validates it, dedupes it on \
            the idempotency key (--key; a repeat answers with the existing run) and creates the run. \
            Exit 1 when the trigger is rejected (the reason names the field), 2 when the broker or \
            trigger-intake does not answer within --timeout.
            """)

    @Argument(help: "The flow to run (its live release, unless --draft names a version).") var flow: String
    @Option(help: "The input: JSON text, or @FILE to read it from a file (default {}).") var input: String?
    @Option(help: "Idempotency key: triggers with the same key make one run (default: a new message id).")
    var key: String?
    @Option(help: "Run this draft version instead of the live release.") var draft: Int?
    @Option(name: .customLong("amqp-url"), help: "RabbitMQ URL (default: KEEL_AMQP_URL, then .keel/env).")
    var amqpURL: String?
    @Option(help: "Seconds to wait for trigger-intake's answer.") var timeout: Int = 30
    @OptionGroup var actor: ActorOption
    @Flag(help: "Print one JSON document (trigger-intake's answer) instead of text.") var json = false

    func run() async throws {
        let output = CLIOutput(json: json)
        let inputValue = try readInput(output)
        var body = JSONObject()
        body["flow"] = .string(flow)
        body["input"] = inputValue
        body["actor"] = .string(actor.resolved)
        if let key { body["idempotency_key"] = .string(key) }
        if let draft { body["draft"] = .number(JSONNumber(draft)) }
        let url = CLISettings().value(
            "KEEL_AMQP_URL", flag: amqpURL, default: "amqp://keel:keel@127.0.0.1:5672/keel")

        let answer: JSONValue
        do {
            answer = try await publishAndAwaitAnswer(JSONValue.object(body).jsonBytes(), url: url)
        } catch let failure as CLIFailure {
            throw output.fail(failure)
        } catch {
            throw output.fail(.infrastructure(String(describing: error)))
        }
        let type = answer["type"]?.stringValue
        if json {
            print(answer.jsonString())
        } else if type == "run.accepted" {
            let duplicate = answer["duplicate"]?.boolValue == true
            print(
                "\(answer["run_id"]?.stringValue ?? "?"): \(duplicate ? "existing run for this key" : "started") "
                    + "(\(flow) v\(answer["version"].map { $0.jsonString() } ?? "?"))")
        } else {
            var text =
                "rejected: \(answer["reason"]?.stringValue ?? "?"): \(answer["message"]?.stringValue ?? "")"
            for error in answer["errors"]?.arrayValue ?? [] {
                text += "\n  input\(error["path"]?.stringValue ?? ""): \(error["message"]?.stringValue ?? "")"
            }
            FileHandle.standardError.write(Data(("keel: " + text + "\n").utf8))
        }
        if type != "run.accepted" { throw ExitCode(1) }
    }

    func readInput(_ output: CLIOutput) throws -> JSONValue {
        guard let input else { return .object([:]) }
        var text = input
        if input.hasPrefix("@") {
            let path = String(input.dropFirst())
            guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw output.fail(.user("--input @\(path): cannot read the file as UTF-8 text"))
            }
            text = contents
        }
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw output.fail(
                .user(
                    "--input: not valid JSON: \(error.message) at line \(error.line), column \(error.column)")
            )
        }
    }

    /// Publishes with confirms to `keel.triggers` and waits for the reply on a queue of our own.
    func publishAndAwaitAnswer(_ body: [UInt8], url: String) async throws -> JSONValue {
        var logger = Logger(label: "keel.cli")
        logger.logLevel = .critical
        let connection = try await AMQPConnection.connect(try AMQPConfiguration(url: url), logger: logger)
        do {
            let answer = try await exchange(body, on: connection)
            await connection.close()
            return answer
        } catch {
            await connection.close()
            throw error
        }
    }

    func exchange(_ body: [UInt8], on connection: AMQPConnection) async throws -> JSONValue {
        let channel = try await connection.openChannel()
        let replies = "keel.cli.replies.\(UUID().uuidString.lowercased())"
        try await channel.declareQueue(replies, durable: false, exclusive: true, autoDelete: true)
        try await channel.enablePublisherConfirms()
        let messageID = UUID().uuidString.lowercased()
        do {
            try await channel.publish(
                body, exchange: "keel.triggers", routingKey: flow,
                properties: AMQPProperties(
                    contentType: "application/json", headers: ["keel-schema": "1"], correlationID: messageID,
                    replyTo: replies, messageID: messageID),
                mandatory: true)
        } catch let error as AMQPError {
            if case .returned = error.code {
                throw CLIFailure.infrastructure(
                    "no queue is bound to keel.triggers: is trigger-intake running?")
            }
            throw error
        }
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            if let delivery = try await channel.get(queue: replies) {
                try await channel.ack(delivery)
                return try JSONValue(parsing: delivery.body)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CLIFailure.infrastructure("trigger-intake did not answer within \(timeout) s")
    }
}
