import ArgumentParser
import Foundation
import KeelCore

/// `keel callback --status S [--output JSON|@FILE] [--resource NAME=PATH]... [--heartbeat]`: how a job
/// that a wait is waiting for (an `ssh` step's remote script, any worker) answers it through the
/// callback-gateway, with the URL and token the step-executor put in its environment.
struct CallbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "callback",
        abstract: "Answer the wait this job was started for, or send it a heartbeat (for workers).",
        discussion: """
            Reads KEEL_CALLBACK_URL and KEEL_CALLBACK_TOKEN from the environment (the token is never \
            taken from the command line and never printed). Uploads each --resource first, then sends \
            the callback. Network errors, 5xx and 429 are retried with exponential backoff and jitter \
            (0.5s doubling to 30s) for at most --retry-for; other 4xx answers are final. Repeating a \
            callback is safe: the gateway applies a wait's answer once and answers a repeat with \
            "already answered". Exit codes: 0 applied, already answered, kept until the wait opens, or \
            heartbeat recorded; 1 the wait is closed (409) or the callback was refused (401, 410, 413, \
            422: the problem's title, detail and field pointers are printed); 2 gave up after retries; \
            64 usage (a flag or the environment is wrong; nothing was sent).
            """)

    @Option(help: "The wait's outcome: succeeded, partial or failed (heartbeat with --heartbeat).")
    var status: String?

    @Option(
        help: """
            The output: a JSON object, or @FILE to read it from a file (@- for standard input). Default {}; \
            for a heartbeat it is the progress.
            """)
    var output: String?

    @Option(
        name: .customLong("resource"),
        help: """
            NAME=PATH: upload the file first and add it to the step's outputs under NAME (letters, digits, \
            '_', '-', '.'); repeatable. The media type follows the extension.
            """)
    var resources: [String] = []

    @Option(
        help: """
            What the job spent, counted against the run's budget: a JSON object with tokens, \
            machine_minutes and money (finite numbers, not negative), e.g. '{"tokens": 1200}'.
            """)
    var usage: String?

    @Flag(help: "Send a heartbeat (status heartbeat): the job is alive; --output is its progress.")
    var heartbeat = false

    @Option(help: "The callbacks URL (default: KEEL_CALLBACK_URL).")
    var url: String?

    @Option(
        name: .customLong("token-file"),
        help: "Read the callback token from this file (default: KEEL_CALLBACK_TOKEN).")
    var tokenFile: String?

    @Option(
        name: .customLong("retry-for"),
        help: "How long to keep retrying network errors, 5xx and 429 (a duration: 90s, 10m, 1h).")
    var retryFor = "10m"

    @Flag(help: "Print the gateway's JSON answer instead of one line.")
    var json = false

    /// The outcomes a job can report; the gateway decides what a wait makes of them.
    static let terminalStatuses = ["succeeded", "partial", "failed"]

    func validate() throws {
        _ = try sentStatus()
        _ = try retryBudget()
        for argument in resources { _ = try CallbackResourceFile(argument: argument) }
    }

    /// The status to send: `--status`, or `heartbeat` with `--heartbeat`.
    func sentStatus() throws(ValidationError) -> String {
        if heartbeat {
            guard status == nil || status == "heartbeat" else {
                throw ValidationError(
                    "--heartbeat sends status heartbeat: leave out --status \(status ?? "")")
            }
            return "heartbeat"
        }
        guard let status else {
            throw ValidationError("--status is required: succeeded, partial or failed (or pass --heartbeat)")
        }
        guard Self.terminalStatuses.contains(status) || status == "heartbeat" else {
            throw ValidationError("--status \(status): expected succeeded, partial or failed")
        }
        return status
    }

    /// `--retry-for` as a duration.
    func retryBudget() throws(ValidationError) -> Duration {
        guard let budget = FlowDuration(parsing: retryFor) else {
            throw ValidationError("--retry-for \(retryFor): expected a duration like 90s, 10m or 1h")
        }
        return budget.duration
    }

    func run() async throws {
        let deadline = ContinuousClock.now + (try retryBudget())
        let prepared: Prepared
        do {
            prepared = try await prepare()
        } catch let error as ValidationError {
            throw Self.usageFailure(error)
        }
        let delivery = CallbackDelivery(
            client: CallbackClient(endpoint: prepared.endpoint),
            retrier: CallbackRetrier(deadline: deadline) { notice in
                FileHandle.standardError.write(Data(("keel: " + notice + "\n").utf8))
            })
        let answer: (body: Data, summary: String)
        do {
            var uploaded: [(name: String, resource: String)] = []
            for (file, digest) in zip(prepared.files, prepared.digests) {
                uploaded.append((file.name, try await delivery.upload(file, sha256: digest)))
            }
            answer = try await delivery.callback(
                status: prepared.status, output: prepared.output, resources: uploaded, usage: prepared.usage)
        } catch let failure as CLIFailure {
            throw CLIOutput(json: json).fail(failure)
        }
        print(json ? String(decoding: answer.body, as: UTF8.self) : answer.summary)
    }

    /// Everything checked before anything is sent.
    struct Prepared {
        var status: String
        var output: JSONObject
        /// `--usage`, checked as the gateway checks it; nil without the flag.
        var usage: Usage?
        var files: [CallbackResourceFile]
        /// Each file's SHA-256, in the same order.
        var digests: [String]
        var endpoint: CallbackEndpoint
    }

    /// Reads and checks the flags, the environment and the files; any problem is a `ValidationError`.
    func prepare() async throws -> Prepared {
        let status = try sentStatus()
        let files = try resources.map { argument throws(ValidationError) in
            try CallbackResourceFile(argument: argument)
        }
        let output = try await CallbackOutputArgument.read(output)
        try Self.checkNames(files, against: output)
        var spent: Usage?
        if let usage {
            let value = try CallbackOutputArgument.parse(usage, flag: "--usage")
            do {
                spent = try Usage(json: .object(value), field: "--usage")
            } catch {
                throw ValidationError(error.description)
            }
        }
        let endpoint = try await CallbackEndpoint.resolve(
            url: url, tokenFile: tokenFile, environment: ProcessInfo.processInfo.environment)
        var digests: [String] = []
        for file in files { digests.append(try await file.digest()) }
        return Prepared(
            status: status, output: output, usage: spent, files: files, digests: digests, endpoint: endpoint)
    }

    /// Reports a usage error found after parsing as ArgumentParser reports its own — the message, then
    /// this command's usage — and returns exit code 64 to throw.
    static func usageFailure(_ error: ValidationError) -> ExitCode {
        let text = """
            Error: \(error.message)
            Usage: \(Keel.usageString(for: CallbackCommand.self))
              See 'keel callback --help' for more information.

            """
        FileHandle.standardError.write(Data(text.utf8))
        return ExitCode.validationFailure
    }

    /// Resource names must differ from each other and from the output's fields, which they join.
    static func checkNames(_ files: [CallbackResourceFile], against output: JSONObject)
        throws(ValidationError)
    {
        var seen: Set<String> = []
        for file in files {
            guard seen.insert(file.name).inserted else {
                throw ValidationError("--resource \(file.name): the name is given twice")
            }
            guard !output.contains(key: file.name) else {
                throw ValidationError("--resource \(file.name): --output has a field of the same name")
            }
        }
    }
}
