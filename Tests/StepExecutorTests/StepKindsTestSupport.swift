import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import Logging
import PGClient

@testable import step_executor

/// An attempt of `step` in a run with `input`, as the engine would hand it over.
func work(_ step: StepDefinition, input: JSONValue = [:], attempt: Int = 1) -> StepWork {
    let runID = RunID(UUID())
    let correlationID = "corr-\(UUID().uuidString.prefix(8))"
    return StepWork(
        runID: runID, flow: "test-flow", version: 1, step: step, attempt: attempt,
        idempotencyKey: "\(runID):\(step.id):\(attempt)", correlationID: correlationID,
        context: ExpressionContext(
            input: input,
            run: RunContext(
                id: runID.description, flow: "test-flow", version: 1, correlationID: correlationID,
                attempt: attempt)
        ))
}

extension StepKinds {
    /// The kinds on `resources`, with test secrets and a small inline limit when asked.
    static func testing(
        _ resources: ResourceStore, secrets: [String: String] = [:],
        inlineLimit: Int = ResourceLimits.defaultInlineLimit, callbacks: CallbackSettings? = nil,
        secretSource: SecretSource? = nil, stepUsers: StepUserPool? = nil
    ) -> StepKinds {
        StepKinds(
            resources: resources, secrets: secretSource ?? SecretSource(values: secrets),
            logger: Logger(label: "test"), limits: ResourceLimits(inlineLimit: inlineLimit),
            callbacks: callbacks, stepUsers: stepUsers)
    }

    /// Runs `work` with the executor its step's kind gets.
    func execute(_ work: StepWork) async throws -> StepOutcome {
        let executor = try requireExecutor(for: work.step)
        return await executor.execute(work)
    }

    func requireExecutor(for step: StepDefinition) throws -> any StepKindExecutor {
        guard let executor = executor(for: step) else { throw NoExecutor(kind: step.kind.name) }
        return executor
    }
}

struct NoExecutor: Error, CustomStringConvertible {
    let kind: String
    var description: String { "no executor for \(kind)" }
}

extension StepOutcome {
    var outputs: JSONObject? {
        if case .succeeded(let outputs) = self { outputs } else { nil }
    }

    var errorClass: ErrorClass? {
        if case .failed(let errorClass, _) = self { errorClass } else { nil }
    }

    var message: String {
        if case .failed(_, let message) = self { message } else { "" }
    }
}

extension ResourceStore {
    /// The content a `{"$resource": ...}` output names, as text (small test payloads only).
    func text(of output: JSONValue?) async throws -> String {
        guard let output, let reference = ResourceStore.storedReference(in: output) else {
            throw NotAReference(value: output?.jsonString() ?? "nil")
        }
        var bytes: [UInt8] = []
        for try await chunk in try await open(reference).chunks { bytes += chunk }
        return String(decoding: bytes, as: UTF8.self)
    }
}

struct NotAReference: Error, CustomStringConvertible {
    let value: String
    var description: String { "not a resource reference: \(value.prefix(200))" }
}
