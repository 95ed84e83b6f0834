import Foundation
import KeelCore
import KeelStore
import Logging

/// `agent`: runs a coding agent's command-line tool on a working copy, as an untrusted `run` step, and
/// records what an operator needs to trust the result.
///
/// The tool is started by its adapter's argv (docs/agents.md) in the working copy, with the step's `env`
/// and the attempt's `KEEL_*` variables only, as the attempt's uid when isolation is on; an approver's
/// `request_changes` note is appended to its prompt. Its stdout is the transcript, stored as
/// `<step>.<attempt>.transcript` and read by the adapter's `AgentTranscriptReader` as it streams. When
/// the tool exits 0, the changes it left are recorded by `WorkingCopyDiff` as `<step>.<attempt>.diff`
/// (`text/x-diff`). Outputs: `diff`, `files_changed`, `final_message`, `usage`, `transcript`, `stderr`,
/// `exit_code`. `usage` also goes to the run's budget (tokens and cost).
struct AgentStepExecutor: StepKindExecutor {
    /// The process machinery of `run` steps, which agent steps share: sandbox, streams, outputs file.
    let run: RunStepExecutor
    let secrets: SecretSource
    let logger: Logger

    func execute(_ work: StepWork) async -> StepOutcome {
        guard case .agent(let action) = work.step.kind else {
            return .failed(.permanent, message: "step '\(work.step.id)' is not an agent step")
        }
        var renderer = StepActionRenderer(context: work.context, secrets: secrets)
        let rendered: RenderedAgentAction
        do {
            rendered = try RenderedAgentAction(action, renderer: &renderer)
        } catch {
            return .failed(.permanent, message: renderer.redactor.redacting(error.description))
        }
        let redactor = renderer.redactor
        let process = rendered.process(prompt: rendered.prompt(answering: work.changeRequest))
        let logger = logger.forRun(work.logContext)
        let outcome = await run.sandboxed(process, logger: logger) { directory in
            await attempt(rendered, process: process, work: work, directory: directory, redactor: redactor)
        }
        switch outcome {
        case .succeeded(let outputs):
            logger.debug(
                "agent step succeeded",
                metadata: [
                    "adapter": "\(rendered.adapter.rawValue)",
                    "files_changed": "\(outputs["files_changed"]?.arrayValue?.count ?? 0)",
                ])
            return outcome
        case .failed(let errorClass, let message):
            logger.debug("agent step failed", metadata: ["error_class": "\(errorClass.rawValue)"])
            return .failed(errorClass, message: redactor.redacting(message))
        case .interrupted(let reason):
            return .interrupted(reason: redactor.redacting(reason))
        }
    }

    private func attempt(
        _ action: RenderedAgentAction, process: RenderedRunAction, work: StepWork,
        directory: AttemptDirectory,
        redactor: SecretRedactor
    ) async -> StepOutcome {
        let transcript = action.adapter.transcriptReader().map(TranscriptLines.init(reader:))
        var onOutput: (@Sendable ([UInt8]) -> Void)?
        if let transcript { onOutput = { transcript.append($0) } }
        let ended = await run.runProcess(
            process, work: work, directory: directory, redactor: redactor,
            output: ("transcript", action.adapter.transcriptMediaType), onOutput: onOutput)
        let report = transcript?.finish()
        let streams: RunStepExecutor.StoredStreams
        switch ended {
        case .ended(let outcome): return outcome
        case .exited(let stored): streams = stored
        }
        if let problem = report?.error {
            return .failed(.transient, message: "the agent reported an error: \(Self.shortened(problem))")
        }
        let workingCopy = run.workingDirectory(process, directory)
        let producer = ResourceProducer(runID: work.runID, step: work.step.id, attempt: work.attempt)
        var outputs: JSONObject
        switch await run.outputs(
            directory: directory, workingDirectory: workingCopy, work: work, redactor: redactor,
            producer: producer, streams: streams)
        {
        case .succeeded(let written): outputs = written
        case let other: return other
        }
        outputs["transcript"] = outputs.removeValue(forKey: "stdout")

        // The tool's own report wins; a custom agent reports in $KEEL_OUTPUT.
        var usage = report?.usage ?? AgentUsage()
        if usage.isEmpty, let written = outputs["usage"] {
            do {
                usage = try AgentUsage(json: written, field: "KEEL_OUTPUT usage")
            } catch {
                return .failed(.permanent, message: error.description)
            }
        }
        outputs["usage"] = usage.jsonValue
        // The transcript was masked as bytes; a secret the tool wrote JSON-escaped is only whole again
        // once its events are decoded, so what is read from them is masked once more.
        if let message = report?.finalMessage {
            do {
                outputs["final_message"] = try await run.resources.inlineOrStore(
                    .string(redactor.redacting(message)), limits: run.limits,
                    name: "\(work.step.id).\(work.attempt).outputs.final_message", producer: producer)
            } catch {
                return .interrupted(reason: "cannot store the final message: \(error)")
            }
        } else if outputs["final_message"] == nil {
            outputs["final_message"] = .null
        }

        let diff = WorkingCopyDiff(
            executor: run, work: work, directory: directory, workingCopy: workingCopy, redactor: redactor)
        switch await diff.record() {
        case .failed(let outcome):
            return outcome
        case .recorded(let stored, let files):
            outputs["diff"] = RunStepExecutor.reference(stored)
            do {
                outputs["files_changed"] = try await run.resources.inlineOrStore(
                    .array(files.map { JSONValue.string(redactor.redacting($0)) }), limits: run.limits,
                    name: "\(work.step.id).\(work.attempt).outputs.files_changed", producer: producer)
            } catch {
                return .interrupted(reason: "cannot store the list of changed files: \(error)")
            }
        }
        return .succeeded(outputs: outputs)
    }

    /// At most 2 KiB of a tool's error text, for the attempt's message.
    static func shortened(_ text: String) -> String {
        text.utf8.count <= 2048 ? text : String(decoding: text.utf8.prefix(2048), as: UTF8.self) + "…"
    }
}
