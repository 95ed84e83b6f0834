import AMQPClient
import Foundation
import KeelBus
import KeelCore
import KeelStore
import Logging
import Metrics
import PGClient
import Tracing

/// Decides what one trigger becomes: a new run, the existing run of a repeated idempotency key, or a
/// recorded rejection. Every outcome, with the messages it causes, commits in one transaction.
struct TriggerHandler: Sendable {
    let pool: PGPool
    let flows: FlowStore
    let runs: RunStore
    let rejections: TriggerRejectionStore
    let publishers: PublisherStore
    let parents: SubflowParents
    let advancer: RunAdvancer
    let compiledFlows: CompiledFlows
    let logger: Logger

    init(pool: PGPool, engine: EngineSettings, logger: Logger) {
        self.pool = pool
        self.advancer = RunAdvancer(pool: pool, settings: engine)
        self.compiledFlows = CompiledFlows(reducers: advancer.reducers)
        self.flows = FlowStore(pool: pool)
        self.runs = RunStore(pool: pool)
        self.rejections = TriggerRejectionStore(pool: pool)
        self.publishers = PublisherStore(pool: pool)
        self.parents = SubflowParents(pool: pool)
        self.logger = logger
    }

    enum Outcome: Sendable, Hashable {
        case accepted(runID: RunID)
        case duplicate(runID: RunID)
        case rejected(TriggerRejection.Reason)
    }

    /// Throws only for infrastructure failures (the caller retries); bad triggers are outcomes.
    func handle(_ delivery: AMQPDelivery) async throws -> Outcome {
        // Refused before any work, and kept whole in the dead-letter queue rather than the database.
        if delivery.body.count > TriggerRequest.maximumBodyBytes {
            throw OversizeMessage(bytes: delivery.body.count, limit: TriggerRequest.maximumBodyBytes)
        }
        let properties = delivery.properties
        let correlationID = properties.correlationID ?? properties.messageID ?? UUID().uuidString.lowercased()
        if let rejection = Self.unusableProperty(properties) {
            return try await reject(rejection, flow: nil, delivery: delivery, correlationID: correlationID)
        }
        let request: TriggerRequest
        switch TriggerRequest.parse(body: delivery.body, messageID: properties.messageID) {
        case .success(let parsed): request = parsed
        case .failure(let rejection):
            return try await reject(rejection, flow: nil, delivery: delivery, correlationID: correlationID)
        }
        if [KeelTopology.triggers.name, KeelTopology.subflows.name].contains(delivery.exchange),
            delivery.routingKey != request.flow
        {
            return try await reject(
                TriggerRejection(
                    reason: .invalidBody, field: "flow",
                    message: "expected the flow named by the routing key '\(delivery.routingKey)'"),
                flow: request.flow, delivery: delivery, correlationID: correlationID,
                idempotencyKey: request.idempotencyKey)
        }

        // The header is checked against the publisher below; here only that it can name anybody.
        let onBehalfOf = properties.headers[OnBehalfOf.header]?.stringValue
        if let onBehalfOf, let problem = OnBehalfOf.problem(with: onBehalfOf) {
            return try await reject(
                Self.onBehalfOfRefusal(problem), flow: request.flow, delivery: delivery,
                correlationID: correlationID, idempotencyKey: request.idempotencyKey)
        }

        // A child run of a `flow` step comes through keel.subflows, and is believed only when the parent's
        // history asked for exactly it; a trigger from anyone else names no parent.
        var parent: VerifiedParent?
        let parentHeader = properties.headers[SubflowParents.header]
        if (delivery.exchange == KeelTopology.subflows.name) != (parentHeader != nil) {
            return try await reject(
                Self.parentRefusal("expected \(SubflowParents.header) on keel.subflows and only there"),
                flow: request.flow, delivery: delivery, correlationID: correlationID,
                idempotencyKey: request.idempotencyKey)
        }
        if parentHeader == nil, let key = request.idempotencyKey, SubflowAction.isChildKey(key) {
            return try await reject(
                TriggerRejection(
                    reason: .invalidBody, field: "idempotency_key",
                    message: "expected a key not of the form RUN:STEP:ATTEMPT:wait, which child runs use"),
                flow: request.flow, delivery: delivery, correlationID: correlationID)
        }
        if let header = parentHeader {
            // What the parent sent exactly: its wait as the key, no draft; then its history must agree.
            guard let waitID = header.stringValue, request.idempotencyKey == waitID, request.draft == nil,
                let verified = try await parents.verify(
                    waitID: waitID, flow: request.flow, input: request.input)
            else {
                return try await reject(
                    Self.parentRefusal(
                        "expected the wait of a flow step that asked for this flow with this input"),
                    flow: request.flow, delivery: delivery, correlationID: correlationID,
                    idempotencyKey: request.idempotencyKey)
            }
            parent = verified
            if verified.depth + 1 > SubflowAction.maximumDepth {
                return try await reject(
                    Self.parentRefusal("sub-flows nest at most \(SubflowAction.maximumDepth) deep"),
                    flow: request.flow, delivery: delivery, correlationID: correlationID,
                    idempotencyKey: request.idempotencyKey, failing: verified)
            }
        }

        let version: FlowVersionRecord
        do {
            version = try await flows.resolve(flow: request.flow, draft: request.draft)
        } catch let error as FlowStoreError {
            return try await reject(
                Self.rejection(for: error), flow: request.flow, delivery: delivery,
                correlationID: correlationID, idempotencyKey: request.idempotencyKey, failing: parent)
        }
        let compiled = try compiledFlows.compiled(version)
        let input = InputDefaults.apply(compiled.definition.input, to: request.input)
        if let schema = compiled.inputSchema {
            let problems = schema.validate(input)
            if !problems.isEmpty {
                return try await reject(
                    .invalidInput(problems), flow: request.flow, delivery: delivery,
                    correlationID: correlationID, idempotencyKey: request.idempotencyKey, failing: parent)
            }
        }

        // The broker checked `user-id` against the publishing account; `actor` is only the body's claim.
        var requester: String?
        if let user = properties.userID {
            let publisher = try await publishers.publisher(forBrokerUser: user)
            requester = onBehalfOf ?? publisher.principal
            if onBehalfOf != nil, !publisher.actsForOthers {
                return try await reject(
                    Self.onBehalfOfRefusal(
                        "only a publisher trusted to act for others may name the requester"),
                    flow: request.flow, delivery: delivery, correlationID: correlationID,
                    idempotencyKey: request.idempotencyKey)
            }
        } else if onBehalfOf != nil {
            return try await reject(
                Self.onBehalfOfRefusal("a trigger naming its requester must carry the publisher's user_id"),
                flow: request.flow, delivery: delivery, correlationID: correlationID,
                idempotencyKey: request.idempotencyKey)
        }
        let runID = Self.newRunID()
        var child = NewRun(
            id: runID, flow: request.flow, version: version.version, input: input,
            idempotencyKey: request.idempotencyKey ?? runID.description, correlationID: correlationID,
            actor: request.actor ?? "anonymous", requester: requester, replyTo: properties.replyTo,
            // With a tracer, the run's trace continues from the span handling this trigger.
            traceparent: TraceSpans.traceparent(of: ServiceContext.current ?? .topLevel)
                ?? Self.trace(properties.headers["traceparent"]?.stringValue).traceparent)
        if let parent {
            // The child acts for whoever its parent acts for; separation of duties holds in it too.
            child.parent = parent.parent
            child.depth = parent.depth + 1
            child.actor = parent.trigger.actor ?? child.actor
            child.requester = parent.trigger.requester
            child.correlationID = parent.trigger.correlationID
            // The outcome goes to the parent, not to a queue the message names.
            child.replyTo = nil
        }
        let run = child
        let creation: RunCreation
        do {
            creation = try await runs.create(run, at: .now, advancer: advancer) { creation in
                guard let replyTo = run.replyTo else { return [] }
                return [TriggerReply.accepted(run: run, creation: creation, replyTo: replyTo)]
            }
        } catch let error as SubflowParentNotWaiting {
            return try await reject(
                Self.parentRefusal(error.description), flow: request.flow, delivery: delivery,
                correlationID: correlationID, idempotencyKey: request.idempotencyKey)
        } catch let error as PGError where error.isPermanent {
            // Whatever the checks above missed, PostgreSQL refused: retrying cannot help, so it is a
            // rejection like any other (answered, recorded, dead-lettered), never a retry in place.
            return try await reject(
                TriggerRejection(
                    reason: .unstorableValue,
                    message: "PostgreSQL refused the trigger's data: \(error.dataFreeDescription)"),
                flow: request.flow, delivery: delivery, correlationID: correlationID,
                idempotencyKey: request.idempotencyKey, failing: parent)
        }
        switch creation {
        case .created(let id):
            let context = RunLogContext(
                runID: id, correlationID: correlationID, flow: run.flow, release: run.version,
                traceID: RunLogContext.traceID(of: run.traceparent))
            logger.info(
                "run created",
                metadata: context.metadata(adding: [
                    "actor": "\(run.actor)", "requester": "\(run.requester ?? "unauthenticated")",
                ]))
            return .accepted(runID: id)
        case .existing(let id, let version):
            // The existing run's own correlation id and trace, not this repeat's: the line is about that run.
            let existing =
                (try? await runs.logContext(of: id))
                ?? RunLogContext(runID: id, flow: run.flow, release: version)
            logger.info(
                "repeated trigger; existing run",
                metadata: existing.metadata(adding: [
                    "idempotency_key": "\(run.idempotencyKey)", "repeat_correlation_id": "\(correlationID)",
                ]))
            return .duplicate(runID: id)
        }
    }

    /// A property the run would keep (its correlation id, message id, reply queue) that cannot be
    /// stored or used: nil when all can.
    /// A `keel-requester` header that cannot be believed.
    static func onBehalfOfRefusal(_ detail: String) -> TriggerRejection {
        TriggerRejection(
            reason: .invalidProperties, field: OnBehalfOf.header, message: "\(OnBehalfOf.header): \(detail)")
    }

    static func unusableProperty(_ properties: AMQPProperties) -> TriggerRejection? {
        let named = [
            ("correlation_id", properties.correlationID), ("message_id", properties.messageID),
            ("reply_to", properties.replyTo), ("user_id", properties.userID),
        ]
        for case (let name, let value?) in named where !value.isStorable {
            return TriggerRejection(
                reason: .invalidProperties, field: name,
                message: "the message's \(name) property holds the character U+0000, which cannot be stored")
        }
        return nil
    }

    /// Records, answers and dead-letters a refused trigger. A child run that cannot be created (`failing`,
    /// its parent verified) fails the parent step waiting for it, with the same reason.
    private func reject(
        _ rejection: TriggerRejection, flow: String?, delivery: AMQPDelivery, correlationID: String,
        idempotencyKey: String? = nil, failing parent: VerifiedParent? = nil
    ) async throws -> Outcome {
        if let parent { try await failParent(parent.parent, because: rejection) }
        var properties = delivery.properties
        // A reply queue named with U+0000 is answered nowhere rather than under another name.
        properties.replyTo = properties.replyTo.flatMap { $0.isStorable ? $0 : nil }
        var messages = [TriggerReply.deadLetter(delivery, rejection: rejection)]
        if let replyTo = properties.replyTo {
            messages.append(
                TriggerReply.rejected(
                    rejection, correlationID: correlationID, replyTo: replyTo,
                    traceparent: properties.headers["traceparent"]?.stringValue))
        }
        let origin = TriggerRejectionStore.Origin(
            messageID: properties.messageID, routingKey: delivery.routingKey, correlationID: correlationID,
            replyTo: properties.replyTo, bodyBytes: delivery.body.count)
        let recorded = try await rejections.record(rejection, flow: flow, origin: origin, messages: messages)
        if recorded {
            Counter(
                label: "keel_dead_letters_total",
                dimensions: [
                    ("queue", KeelTopology.triggerQueue.name), ("reason", rejection.reason.rawValue),
                ]
            ).increment()
        }
        // No run: the line carries what the sender can find it by, the correlation id and message id.
        logger.warning(
            "trigger rejected",
            metadata: [
                "reason": "\(rejection.reason.rawValue)", "field": "\(rejection.field ?? "-")",
                "flow": "\(flow ?? "-")", "correlation_id": "\(correlationID)", "repeat": "\(!recorded)",
                "message_id": "\(properties.messageID ?? "-")", "idempotency_key": "\(idempotencyKey ?? "-")",
            ])
        return .rejected(rejection.reason)
    }

    /// The parent step's wait gets a failed `callback.received`, as if the child had run and failed.
    private func failParent(_ parent: RunParent, because rejection: TriggerRejection) async throws {
        let message = "the child run could not start: \(rejection.message)"
        try await advancer.advance(run: parent.runID) { state in
            guard let step = state.steps[parent.step], step.status == .waiting, step.waitID == parent.waitID
            else { return nil }
            return RunFact(
                at: .now,
                event: .callbackReceived(
                    step: parent.step, waitID: parent.waitID, status: .failed,
                    output: ["error": .string(message)]))
        }
    }

    /// A `keel-parent-wait` header that is not believed: the trigger names no child anyone asked for.
    static func parentRefusal(_ message: String) -> TriggerRejection {
        TriggerRejection(reason: .invalidProperties, field: SubflowParents.header, message: message)
    }

    static func rejection(for error: FlowStoreError) -> TriggerRejection {
        switch error {
        case .unknownFlow:
            TriggerRejection(reason: .unknownFlow, field: "flow", message: error.description)
        case .noLiveRelease:
            TriggerRejection(reason: .noLiveRelease, field: "flow", message: error.description)
        default:
            TriggerRejection(reason: .unknownVersion, field: "draft", message: error.description)
        }
    }

    /// The run's trace: the trigger's own when its `traceparent` is valid, else a new one.
    static func trace(_ traceparent: String?) -> TraceContext {
        traceparent.flatMap(TraceContext.init(traceparent:)) ?? .start()
    }

    static func newRunID() -> RunID {
        var generator = SystemRandomNumberGenerator()
        return RunID.make(
            millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)),
            using: &generator)
    }
}
