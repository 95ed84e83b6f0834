import ArgumentParser
import Foundation
import KeelCore
import KeelStore
import PGClient

/// `keel run start FLOW --input JSON|@file [--wait]`: publishes a trigger exactly as any AMQP client
/// would (DESIGN §4), prints trigger-intake's answer from `reply_to` and, with `--wait`, waits on the
/// same queue for the run's outcome and prints its timeline.
struct RunStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Trigger a run: publish to keel.triggers and print the run id (or why it was rejected).",
        discussion: """
            The trigger goes through RabbitMQ like any other: trigger-intake validates it, dedupes it on \
            the idempotency key (--key; a repeat answers with the existing run) and creates the run. \
            With --wait the command then waits for the run to finish and prints its timeline (as keel run \
            show). Exit codes: 0 accepted (with --wait: the run succeeded); 1 the trigger was rejected \
            (the reason names the field) or the input is not JSON; 2 the broker or trigger-intake did not \
            answer within the answer timeout, or (with --wait) the run failed or was cancelled; 3 (with \
            --wait) the run did not finish within --timeout.
            """)

    @Argument(help: "The flow to run (its live release, unless --draft names a version).") var flow: String
    @Option(help: "The input: JSON text, or @FILE to read it from a file (default {}).") var input: String?
    @Option(help: "Idempotency key: triggers with the same key make one run (default: a new message id).")
    var key: String?
    @Option(help: "Run this draft version instead of the live release.") var draft: Int?
    @Option(name: .customLong("amqp-url"), help: "RabbitMQ URL (default: KEEL_AMQP_URL, then .keel/env).")
    var amqpURL: String?
    @Flag(help: "Wait for the run to finish, then print its timeline; the exit code tells the outcome.")
    var wait = false
    @Option(
        help: """
            How long to wait (30s, 10m, or plain seconds): for trigger-intake's answer (default 30s), or \
            with --wait for the run to finish (default 10m; the answer still within 30s).
            """)
    var timeout: String?
    @Option(
        name: .customLong("database-url"),
        help:
            "With --wait: PostgreSQL URL to read the timeline from (default: KEEL_DATABASE_URL, then .keel/env)."
    )
    var databaseURL: String?
    @OptionGroup var actor: ActorOption
    @Flag(
        help: "Print one JSON document instead of text (trigger-intake's answer; with --wait, docs/cli.md).")
    var json = false

    /// The longest trigger-intake may take to answer.
    static let answerTimeout = FlowDuration(milliseconds: 30_000)
    static let runTimeout = FlowDuration(milliseconds: 600_000)

    /// `--wait --json`: the answer, the outcome message (null on a timeout) and the run's timeline.
    struct WaitReport: Encodable {
        var accepted: JSONValue
        var finished: JSONValue?
        var run: RunTimeline

        enum CodingKeys: String, CodingKey { case accepted, finished, run }

        /// `finished` is written as `null` on a timeout rather than left out.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(accepted, forKey: .accepted)
            try container.encode(finished ?? .null, forKey: .finished)
            try container.encode(run, forKey: .run)
        }
    }

    func run() async throws {
        let output = CLIOutput(json: json)
        let limit = try timeLimit(output)
        let answerLimit = wait ? min(limit, Self.answerTimeout) : limit
        let inputValue = try readInput(output)
        var body = JSONObject()
        body["flow"] = .string(flow)
        body["input"] = inputValue
        body["actor"] = .string(actor.resolved)
        if let key { body["idempotency_key"] = .string(key) }
        if let draft { body["draft"] = .number(JSONNumber(draft)) }
        let url = CLISettings().value(
            "KEEL_AMQP_URL", flag: amqpURL, default: "amqp://keel:keel@127.0.0.1:5672/keel")

        let began = ContinuousClock.now
        let conversation: TriggerConversation
        let answer: JSONValue
        do {
            conversation = try await TriggerConversation.open(url: url)
            do {
                try await conversation.publish(JSONValue.object(body).jsonBytes(), flow: flow)
                guard
                    let reply = try await conversation.next(
                        ["run.accepted", "trigger.rejected"], before: began + answerLimit.duration)
                else {
                    throw CLIFailure.infrastructure("trigger-intake did not answer within \(answerLimit)")
                }
                answer = reply
            } catch {
                await conversation.close()
                throw error
            }
        } catch let failure as CLIFailure {
            throw output.fail(failure)
        } catch {
            throw output.fail(.infrastructure(String(describing: error)))
        }
        guard answer["type"]?.stringValue == "run.accepted" else {
            await conversation.close()
            reportRejection(answer)
            throw ExitCode(1)
        }
        guard wait else {
            await conversation.close()
            if json { print(answer.jsonString()) } else { print(acceptedLine(answer)) }
            return
        }
        if !json {
            // Written at once, not buffered: the wait may be long, and scripts pipe this.
            FileHandle.standardOutput.write(
                Data((acceptedLine(answer) + "; waiting for it to finish\n").utf8))
        }
        let runID = answer["run_id"]?.stringValue ?? ""
        try await awaitOutcome(
            of: runID, answer: answer, on: conversation, deadline: began + limit.duration, limit: limit,
            output: output)
    }

    /// Waits for `run.finished` (or, for an existing run, its finish in the database), prints the
    /// timeline and exits with the outcome's code.
    func awaitOutcome(
        of runID: String, answer: JSONValue, on conversation: TriggerConversation,
        deadline: ContinuousClock.Instant, limit: FlowDuration, output: CLIOutput
    ) async throws {
        let databaseURL = DatabaseOptions.resolvedURL(flag: databaseURL)
        let duplicate = answer["duplicate"]?.boolValue == true
        let finished: JSONValue?
        do {
            if duplicate {
                // An existing run's outcome goes to the reply queue of the trigger that created it.
                finished = try await DatabaseOptions.withPool(url: databaseURL, output: output) { pool in
                    try await Self.pollFinish(of: runID, pool: pool, deadline: deadline)
                }
            } else {
                var message = try await conversation.next(["run.finished"], before: deadline)
                while let other = message, other["run_id"]?.stringValue != runID {
                    message = try await conversation.next(["run.finished"], before: deadline)
                }
                finished = message
            }
        } catch let exit as ExitCode {
            await conversation.close()
            throw exit
        } catch {
            await conversation.close()
            throw output.fail(.infrastructure(String(describing: error)))
        }
        await conversation.close()
        let timeline = try await DatabaseOptions.withPool(url: databaseURL, output: output) { pool in
            try await LoadedRun.load(run: runID, pool: pool).timeline()
        }
        if json {
            output.emit(WaitReport(accepted: answer, finished: finished, run: timeline)) { "" }
        } else {
            print(RunTimelineText.render(timeline))
        }
        guard let finished else {
            if !json {
                FileHandle.standardError.write(
                    Data(
                        ("keel: run \(runID) did not finish within \(limit) (it is \(timeline.status.rawValue)); "
                            + "follow it with keel run show \(runID)\n").utf8))
            }
            throw ExitCode(3)
        }
        let outcome = finished["outcome"]?.stringValue ?? "?"
        guard outcome == RunOutcome.succeeded.rawValue else {
            if !json {
                let reason = finished["reason"]?.stringValue.map { ": \($0)" } ?? ""
                FileHandle.standardError.write(Data("keel: run \(runID) \(outcome)\(reason)\n".utf8))
            }
            throw ExitCode(2)
        }
    }

    /// Reads the run until it is finished; its outcome shaped as the `run.finished` message.
    static func pollFinish(
        of runID: String, pool: PGPool, deadline: ContinuousClock.Instant
    ) async throws -> JSONValue? {
        while true {
            let timeline = try await LoadedRun.load(run: runID, pool: pool).timeline()
            if let outcome = timeline.outcome {
                var body = JSONObject()
                body["type"] = "run.finished"
                body["run_id"] = .string(runID)
                body["flow"] = .string(timeline.flow)
                body["version"] = .number(JSONNumber(timeline.version))
                body["outcome"] = .string(outcome.rawValue)
                body["reason"] = timeline.reason.map(JSONValue.string) ?? .null
                return .object(body)
            }
            guard ContinuousClock.now + .milliseconds(500) < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    func acceptedLine(_ answer: JSONValue) -> String {
        let duplicate = answer["duplicate"]?.boolValue == true
        return
            "\(answer["run_id"]?.stringValue ?? "?"): \(duplicate ? "existing run for this key" : "started") "
            + "(\(flow) v\(answer["version"].map { $0.jsonString() } ?? "?"))"
    }

    func reportRejection(_ answer: JSONValue) {
        if json {
            print(answer.jsonString())
            return
        }
        var text =
            "rejected: \(answer["reason"]?.stringValue ?? "?"): \(answer["message"]?.stringValue ?? "")"
        for error in answer["errors"]?.arrayValue ?? [] {
            text += "\n  input\(error["path"]?.stringValue ?? ""): \(error["message"]?.stringValue ?? "")"
        }
        FileHandle.standardError.write(Data(("keel: " + text + "\n").utf8))
    }

    /// `--timeout` as a duration: `30s`, `10m`, `1h30m`, or a whole number of seconds.
    func timeLimit(_ output: CLIOutput) throws -> FlowDuration {
        guard let timeout else { return wait ? Self.runTimeout : Self.answerTimeout }
        let seconds = Int64(timeout).flatMap {
            (1...FlowDuration.maximum.milliseconds / 1000).contains($0) ? $0 : nil
        }
        let parsed = seconds.map { FlowDuration(milliseconds: $0 * 1000) } ?? FlowDuration(parsing: timeout)
        guard let parsed, parsed.milliseconds > 0 else {
            throw output.fail(.user("--timeout \(timeout): expected a duration like 30s, 10m or 1h30m"))
        }
        return parsed
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
}
