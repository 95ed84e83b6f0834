import Foundation
import KeelCore
import KeelStore
import Logging

/// `run`: starts the step's program as a local process and turns how it ended into an outcome.
///
/// The process sees only the step's rendered `env`, the `KEEL_*` variables of the attempt and a minimal
/// `PATH`; nothing of the executor's environment (its database URL, its secrets) leaks in. Its stdout
/// and stderr are streamed, secrets masked, into the resources `<step>.<attempt>.stdout` and `.stderr`.
/// It runs in its `working_dir`, else in the attempt's fresh private directory. Exit 0 succeeds with the
/// JSON object the step wrote to `$KEEL_OUTPUT`, each declared `resource` output read from its file and
/// stored, plus `exit_code`, `stdout` and `stderr`; a non-zero exit fails as `transient`, a timeout as `timeout`, a program that cannot
/// start or an unusable output file as `permanent` (docs/flows.md, *Step kinds*).
///
/// With `wait`, the process also gets `KEEL_CALLBACK_URL` and `KEEL_CALLBACK_TOKEN` (minted for the wait
/// `<run>:<step>:<attempt>:wait`) to hand to whatever calls back, typically a CI job or an agent API; the
/// token is masked like a secret in the stored streams, outputs and messages.
struct RunStepExecutor: StepKindExecutor {
    /// Largest output file read; a bigger one fails the step (outputs that big belong in resources).
    static let maximumOutputFileSize = 16 << 20
    /// Lines of stderr quoted in the message of a non-zero exit.
    static let stderrLinesInMessage = 10

    let resources: ResourceStore
    let secrets: SecretSource
    let limits: ResourceLimits
    let temporaryDirectory: String
    /// The `PATH` and working directory a step gets unless its action sets them.
    let defaults: RunDefaults
    let logger: Logger
    /// Token keys and gateway URL for steps with `wait`; nil fails them as `permanent`.
    var callbacks: CallbackSettings? = nil
    /// The uids attempts run as (`KEEL_STEP_ISOLATION=uid-range`); nil runs them as the executor's user.
    var users: StepUserPool? = nil
    var now: @Sendable () -> Date = { Date() }

    func execute(_ work: StepWork) async -> StepOutcome {
        guard case .run(let action) = work.step.kind else {
            return .failed(.permanent, message: "step '\(work.step.id)' is not a run step")
        }
        var renderer = StepActionRenderer(context: work.context, secrets: secrets)
        let rendered: RenderedRunAction
        do {
            rendered = try RenderedRunAction(action, renderer: &renderer)
        } catch {
            return .failed(.permanent, message: renderer.redactor.redacting(error.description))
        }
        var callbackVariables: [String: String] = [:]
        var callbackToken: [String] = []
        if let wait = action.wait {
            guard let callbacks else {
                return .failed(
                    .permanent,
                    message: "this executor has no callback settings (KEEL_CALLBACK_KEYS, "
                        + "KEEL_CALLBACK_GATEWAY_URL), so it cannot run a step that waits for a callback")
            }
            // The wait opens when the program exits: at the latest when its own timeout passes.
            let token = callbacks.token(
                for: work, wait: wait, now: now(), lead: action.timeout?.duration ?? .zero)
            callbackVariables = callbacks.variables(token: token)
            callbackToken = [token]
        }
        let redactor = SecretRedactor(secrets: renderer.maskedSecrets + callbackToken)
        let logger = logger.forRun(work.logContext)
        let outcome = await prepare(
            rendered, work: work, callbackVariables: callbackVariables, redactor: redactor, logger: logger)
        switch outcome {
        case .succeeded(let outputs):
            logger.debug("run step succeeded", metadata: ["exit_code": "0", "outputs": "\(outputs.count)"])
            return outcome
        case .failed(let errorClass, let message):
            logger.debug("run step failed", metadata: ["error_class": "\(errorClass.rawValue)"])
            return .failed(errorClass, message: redactor.redacting(message))
        case .interrupted(let reason):
            return .interrupted(reason: redactor.redacting(reason))
        }
    }

    /// Checks the program can start and makes the attempt's directory, runs, then removes the directory.
    private func prepare(
        _ action: RenderedRunAction, work: StepWork, callbackVariables: [String: String],
        redactor: SecretRedactor, logger: Logger
    ) async -> StepOutcome {
        await sandboxed(action, logger: logger) { directory in
            await run(
                action, work: work, callbackVariables: callbackVariables, directory: directory,
                redactor: redactor)
        }
    }

    /// Runs `body` in the attempt's sandbox: once `action`'s program is known to start, with a uid of the
    /// pool (when isolation is on) and the attempt's private directory, both given back afterwards.
    func sandboxed(
        _ action: RenderedRunAction, logger: Logger,
        body: (AttemptDirectory) async -> StepOutcome
    ) async -> StepOutcome {
        let program = action.arguments[0]
        let canStart = await ProgramLookup.canExecute(
            program, searchPath: action.environment["PATH"] ?? defaults.path,
            workingDirectory: Self.resolve(action.workingDirectory, against: defaults.workingDirectory))
        guard canStart else {
            return .failed(.permanent, message: "cannot start \(program): no such executable program")
        }
        var lease: StepUserLease?
        if let users {
            do {
                lease = try await users.acquire()
            } catch {
                logger.error("no uid to run the step as", metadata: ["error": "\(error)"])
                return .interrupted(reason: "no uid to run the step as: \(error)")
            }
        }
        let directory: AttemptDirectory
        do {
            directory = try await AttemptDirectory.create(in: temporaryDirectory, owner: lease?.user)
        } catch {
            if let lease { users?.release(lease) }
            logger.error("cannot create the attempt's directory", metadata: ["error": "\(error)"])
            return .interrupted(reason: "cannot create the attempt's directory: \(error)")
        }
        let outcome = await body(directory)
        await directory.remove()
        if let lease { users?.release(lease) }
        return outcome
    }

    /// The process's whole environment: the step's `env`, a default `PATH`, then the attempt's `KEEL_*`
    /// (with `wait`, `callbackVariables`: `KEEL_CALLBACK_URL` and `KEEL_CALLBACK_TOKEN`).
    static func environment(
        of action: RenderedRunAction, work: StepWork, outputPath: String,
        path: String = RunDefaults.standardPath, callbackVariables: [String: String] = [:]
    ) -> [String: String] {
        var environment = action.environment
        if environment["PATH"] == nil { environment["PATH"] = path }
        environment.merge(callbackVariables) { _, callback in callback }
        environment["KEEL_RUN_ID"] = work.runID.description
        environment["KEEL_STEP"] = work.step.id
        environment["KEEL_ATTEMPT"] = String(work.attempt)
        environment["KEEL_IDEMPOTENCY_KEY"] = work.idempotencyKey
        environment["KEEL_CORRELATION_ID"] = work.correlationID
        if let traceparent = work.traceparent { environment["TRACEPARENT"] = traceparent }
        environment["KEEL_OUTPUT"] = outputPath
        if let change = work.changeRequest {
            var request: JSONObject = ["round": .number(JSONNumber(change.round))]
            request["note"] = change.note.map(JSONValue.string) ?? .null
            request["actor"] = change.actor.map(JSONValue.string) ?? .null
            environment["KEEL_CHANGE_REQUEST"] = JSONValue.object(request).jsonString()
        }
        return environment
    }

    private func run(
        _ action: RenderedRunAction, work: StepWork, callbackVariables: [String: String],
        directory: AttemptDirectory, redactor: SecretRedactor
    ) async -> StepOutcome {
        let ended = await runProcess(
            action, work: work, callbackVariables: callbackVariables, directory: directory, redactor: redactor
        )
        let streams: StoredStreams
        switch ended {
        case .ended(let outcome): return outcome
        case .exited(let stored): streams = stored
        }
        return await outputs(
            directory: directory, workingDirectory: workingDirectory(action, directory), work: work,
            redactor: redactor,
            producer: ResourceProducer(runID: work.runID, step: work.step.id, attempt: work.attempt),
            streams: streams)
    }

    /// The stored stdout (or transcript) and stderr of a process that exited 0.
    typealias StoredStreams = (output: ResourceRecord, error: ResourceRecord)

    /// How an attempt's process ended: with exit status 0 and both streams stored, or with the outcome
    /// that ends the attempt (a non-zero exit, a signal, the timeout, cancellation, a store that failed).
    enum ProcessEnd {
        case exited(streams: StoredStreams)
        case ended(StepOutcome)
    }

    /// The process for `action` as this attempt runs it: its environment, working directory and user.
    func processSpec(
        _ action: RenderedRunAction, work: StepWork, callbackVariables: [String: String] = [:],
        directory: AttemptDirectory
    ) -> LocalProcessSpec {
        LocalProcessSpec(
            arguments: action.arguments,
            environment: Self.environment(
                of: action, work: work, outputPath: directory.outputPath, path: defaults.path,
                callbackVariables: callbackVariables),
            workingDirectory: workingDirectory(action, directory), standardInput: action.standardInput,
            user: directory.owner, setpriv: users?.setpriv ?? StepUser.standardSetpriv,
            timeout: action.timeout?.duration)
    }

    /// Runs the attempt's process, streaming stdout into the resource `<step>.<attempt>.<outputName>` of
    /// `outputType` (`stdout`, `text/plain` for a `run` step) and stderr into `<step>.<attempt>.stderr`.
    /// `onOutput` sees each chunk of stdout as stored, secrets masked.
    func runProcess(
        _ action: RenderedRunAction, work: StepWork, callbackVariables: [String: String] = [:],
        directory: AttemptDirectory, redactor: SecretRedactor,
        output: (name: String, mediaType: String) = ("stdout", "text/plain"),
        onOutput: (@Sendable ([UInt8]) -> Void)? = nil
    ) async -> ProcessEnd {
        let spec = processSpec(action, work: work, callbackVariables: callbackVariables, directory: directory)
        let producer: ResourceProducer? = ResourceProducer(
            runID: work.runID, step: work.step.id, attempt: work.attempt)
        let standardOutput = CapturedOutput(redactor: redactor, observer: onOutput)
        let standardError = CapturedOutput(redactor: redactor)
        let prefix = "\(work.step.id).\(work.attempt)"
        async let storedOutput = store(
            standardOutput, name: "\(prefix).\(output.name)", mediaType: output.mediaType, producer: producer)
        async let storedError = store(standardError, name: "\(prefix).stderr", producer: producer)
        let ended: Result<LocalProcessResult, any Error>
        do {
            ended = .success(
                try await LocalProcess.run(spec) { output in
                    switch output {
                    case .standardOutput(let bytes): standardOutput.append(bytes)
                    case .standardError(let bytes): standardError.append(bytes)
                    }
                })
        } catch {
            ended = .failure(error)
        }
        // Whatever escaped the process group (a daemon) stops before the outputs are read.
        if let user = directory.owner { await users?.sweep(user) }
        standardOutput.finish()
        standardError.finish()
        let streams = await (output: storedOutput, error: storedError)

        let result: LocalProcessResult
        switch ended {
        case .failure(let error): return .ended(.failed(.permanent, message: "\(error)"))
        case .success(let success): result = success
        }
        if result.cancelled || Task.isCancelled {
            return .ended(.failed(.cancelled, message: "cancelled while running"))
        }
        if result.timedOut {
            return .ended(
                .failed(.timeout, message: "timed out after \(action.timeout?.description ?? "its timeout")"))
        }
        guard let exitCode = result.exitCode else {
            return .ended(
                .failed(
                    .transient,
                    message: Self.message("killed by signal \(result.signal ?? 0)", stderr: standardError)))
        }
        guard exitCode == 0 else {
            return .ended(
                .failed(.transient, message: Self.message("exit code \(exitCode)", stderr: standardError)))
        }
        switch streams {
        case (.success(let output), .success(let error)):
            return .exited(streams: (output, error))
        case (.failure(let error), _), (_, .failure(let error)):
            return .ended(.interrupted(reason: "cannot store the output streams: \(error)"))
        }
    }

    /// The step's `working_dir`, else the executor's `KEEL_RUN_WORKING_DIR`, else the attempt's directory;
    /// a relative `working_dir` is relative to the latter two (as `./model` in the examples means the
    /// checkout's `model`), never to wherever the executor itself was started.
    func workingDirectory(_ action: RenderedRunAction, _ directory: AttemptDirectory) -> String {
        Self.resolve(action.workingDirectory, against: defaults.workingDirectory ?? directory.path)
            ?? directory.path
    }

    /// `path` made absolute against `base`; `base` when there is no `path`.
    static func resolve(_ path: String?, against base: String?) -> String? {
        guard let path else { return base }
        guard !path.hasPrefix("/"), let base else { return path }
        return base + "/" + path
    }

    /// Streams one output into its resource; the channel is closed whatever happens, so the process's
    /// reader never waits on a store that gave up.
    func store(
        _ captured: CapturedOutput, name: String, mediaType: String = "text/plain",
        producer: ResourceProducer?
    ) async -> Result<ResourceRecord, any Error> {
        defer { captured.channel.close() }
        do {
            return .success(
                try await resources.put(
                    captured.channel,
                    description: ResourceDescription(name: name, mediaType: mediaType, producer: producer))
            )
        } catch {
            return .failure(error)
        }
    }

    /// The outputs of a successful attempt: what the step wrote to `KEEL_OUTPUT` (secrets masked, each
    /// value over the inline limit stored as a resource), then `exit_code`, `stdout`, `stderr`.
    func outputs(
        directory: AttemptDirectory, workingDirectory: String, work: StepWork, redactor: SecretRedactor,
        producer: ResourceProducer?,
        streams: StoredStreams
    ) async -> StepOutcome {
        let bytes: [UInt8]
        do {
            guard let read = try await directory.readOutput(maximumSize: Self.maximumOutputFileSize) else {
                return .failed(
                    .permanent,
                    message: "KEEL_OUTPUT: the file is larger than \(Self.maximumOutputFileSize) bytes")
            }
            bytes = read
        } catch {
            return .failed(.permanent, message: "KEEL_OUTPUT: cannot read the file: \(error)")
        }
        var outputs = JSONObject()
        if bytes.contains(where: { !Self.isJSONWhitespace($0) }) {
            let value: JSONValue
            do {
                value = try JSONValue(parsing: bytes)
            } catch {
                return .failed(.permanent, message: "KEEL_OUTPUT: \(error)")
            }
            guard case .object(let written) = value else {
                return .failed(
                    .permanent,
                    message: "KEEL_OUTPUT: expected a JSON object, the step wrote \(value.typeName)")
            }
            for (key, member) in written.redacted(with: redactor) {
                do {
                    outputs[key] = try await resources.inlineOrStore(
                        member, limits: limits, name: "\(work.step.id).\(work.attempt).outputs.\(key)",
                        producer: producer)
                } catch {
                    return .interrupted(reason: "cannot store output '\(key)': \(error)")
                }
            }
        }
        for (key, declared) in work.step.outputs.sorted(by: { $0.key < $1.key }) {
            guard case .resource(let file, let mediaType) = declared else { continue }
            let base = workingDirectory
            let owner = directory.owner?.uid
            let opened: Int32
            do {
                opened = try await BlockingIO.run { try ConfinedFile.open(file, under: base, owner: owner) }
            } catch ConfinedFileError.cannotOpen(_, errno: ENOENT) {
                return .failed(
                    .permanent, message: "output '\(key)': the step did not write its resource file \(file)")
            } catch {
                return .failed(.permanent, message: "output '\(key)': \(error)")
            }
            do {
                let record = try await resources.put(
                    FileChunks(adopting: opened, path: file),
                    description: ResourceDescription(
                        name: "\(work.step.id).\(work.attempt).\(file)", mediaType: mediaType,
                        producer: producer),
                    redactor: redactor)
                outputs[key] = Self.reference(record)
            } catch {
                return .interrupted(reason: "cannot store output '\(key)' from \(file): \(error)")
            }
        }
        outputs["exit_code"] = .number(JSONNumber(0))
        outputs["stdout"] = Self.reference(streams.output)
        outputs["stderr"] = Self.reference(streams.error)
        return .succeeded(outputs: outputs)
    }

    static func reference(_ record: ResourceRecord) -> JSONValue {
        ResourceStore.referenceObject(record.reference, size: record.size, mediaType: record.mediaType)
    }

    /// `what`, then the last lines of stderr when there are any.
    static func message(_ what: String, stderr: CapturedOutput) -> String {
        let lines = stderr.lastLines(stderrLinesInMessage)
        return lines.isEmpty ? what : "\(what); stderr ends with:\n\(lines)"
    }

    static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
