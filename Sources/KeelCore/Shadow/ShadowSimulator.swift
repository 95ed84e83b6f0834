/// Replays recorded runs against another version of their flow without doing anything: the real
/// reducer over that version decides, and the recorded history answers in place of the executors,
/// approvers and callers.
///
/// The shadow keeps the recorded run's id, so attempt keys, wait, approval and timer ids are the ones
/// the recorded facts name. It starts with the recorded trigger (input, requester, times) under the
/// shadowed version, then walks the recorded facts from the world in order. A step's recorded result,
/// callback or decision is fed only when the shadow began the same attempt and it renders exactly as
/// the recorded one did (`RenderedAction`); a step new in the version, rendered differently, or reached
/// only by the shadow is held back: not executed and never finished, so what needs it is not reached.
/// Timers of held steps are not fired; the rest fire as recorded. Nothing here does I/O.
public struct ShadowSimulator: Sendable {
    public let flow: FlowDefinition
    public let version: Int
    private let reducer: RunReducer

    public init(flow: FlowDefinition, version: Int) {
        self.flow = flow
        self.version = version
        reducer = RunReducer(flow: flow)
    }

    /// Why a step's attempt was held back.
    private enum Hold {
        case changed(live: RenderedAction, shadow: RenderedAction)
        case unrecorded(shadow: RenderedAction)
    }

    /// What happened when the recorded facts were fed to the shadow.
    private struct Replay {
        var shadow: ActionLog
        var state: RunState
        var held: [String: Hold] = [:]
        var matchedAttempts: Set<String> = []
        var matchedWaits: Set<String> = []
        var matchedApprovals: Set<String> = []
    }

    public func shadow(_ recording: ShadowRecording) -> ShadowRunReport {
        var live = ActionLog(flow: recording.flow)
        for fact in recording.facts { live.record(fact) }
        let diff = FlowDefinitionDiff(
            from: recording.flow, version: recording.version, to: flow, version: version)
        var replay = Replay(shadow: ActionLog(flow: flow), state: reducer.initialState)
        if let trigger = live.state.trigger,
            let at = recording.facts.first(where: { if case .runTriggered = $0.event { true } else { false } }
            )?.at
        {
            var shadowTrigger = trigger
            shadowTrigger.version = version
            // As trigger-intake would: the version's defaults fill what the recorded input lacks.
            shadowTrigger.input = InputDefaults.apply(flow.input, to: trigger.input)
            feed(RunFact(at: at, event: .runTriggered(shadowTrigger)), into: &replay, live: live)
            for fact in recording.facts
            where !fact.derived && shouldFeed(fact, replay, runID: trigger.runID.description) {
                feed(fact, into: &replay, live: live)
            }
        }
        return report(live: live, replay: replay, diff: diff, recording: recording)
    }

    // MARK: Driving the reducer

    private func feed(_ fact: RunFact, into replay: inout Replay, live: ActionLog) {
        let transition = reducer.reduce(replay.state, fact)
        guard !transition.ignored else { return }
        replay.state = transition.state
        for recorded in [fact] + transition.derived {
            guard let key = replay.shadow.record(recorded), let shadowAction = replay.shadow.actions[key]
            else {
                matchWaitOfCommand(recorded, &replay)
                continue
            }
            guard let liveAction = live.actions[key] else {
                hold(key.flowStep, .unrecorded(shadow: shadowAction), in: &replay)
                continue
            }
            guard liveAction == shadowAction else {
                hold(key.flowStep, .changed(live: liveAction, shadow: shadowAction), in: &replay)
                continue
            }
            switch recorded.event {
            case .stepScheduled(let scheduled):
                replay.matchedAttempts.insert(Self.attemptKey(scheduled.step, scheduled.attempt))
            case .waitOpened(_, _, let waitID): replay.matchedWaits.insert(waitID)
            case .approvalRequested(let request): replay.matchedApprovals.insert(request.approvalID)
            case .subflowStarted(let request): replay.matchedWaits.insert(request.waitID)
            default: break
            }
        }
    }

    /// The wait a `run` or `ssh` step opens after its command is as good as the command that matched.
    private func matchWaitOfCommand(_ fact: RunFact, _ replay: inout Replay) {
        guard case .waitOpened(let step, let attempt, let waitID) = fact.event,
            replay.matchedAttempts.contains(Self.attemptKey(step, attempt))
        else { return }
        replay.matchedWaits.insert(waitID)
    }

    private func hold(_ step: String, _ hold: Hold, in replay: inout Replay) {
        // The first difference of a step is the one reported.
        if replay.held[step] == nil { replay.held[step] = hold }
    }

    private func shouldFeed(_ fact: RunFact, _ replay: Replay, runID: String) -> Bool {
        switch fact.event {
        case .runTriggered:
            return false
        case .stepStarted(let step, let attempt, _, _), .stepSucceeded(let step, let attempt, _),
            .stepFailed(let step, let attempt, _, _):
            return replay.matchedAttempts.contains(Self.attemptKey(step, attempt))
        case .callbackReceived(_, let waitID, _, _):
            return replay.matchedWaits.contains(waitID)
        case .approvalDecided(_, let approvalID, _, _, _):
            return replay.matchedApprovals.contains(approvalID)
        case .timerFired(let timerID):
            guard let step = Self.step(ofTimer: timerID, runID: runID) else { return true }
            return replay.held[MapElement.parse(step)?.step ?? step] == nil
        default:
            // Cancel and retry requests, and facts this simulator does not know: the reducer decides.
            return true
        }
    }

    private static func attemptKey(_ step: String, _ attempt: Int) -> String { "\(step)\u{0}\(attempt)" }

    /// The step a timer id (docs/history.md, "Identifiers") belongs to; nil for the run's own timers.
    static func step(ofTimer timerID: String, runID: String) -> String? {
        guard let timer = AttemptID.timer(timerID), timer.attempt.run.description == runID else { return nil }
        return timer.attempt.step
    }

    // MARK: The report

    private func report(
        live: ActionLog, replay: Replay, diff: FlowDefinitionDiff, recording: ShadowRecording
    ) -> ShadowRunReport {
        let liveState = live.state
        let shadowState = replay.state
        var steps: [ShadowStepReport] = []
        var differing: Set<String> = []
        for step in flow.steps {
            let change: ShadowStepReport.DefinitionChange =
                diff.added.contains(step.id) ? .added : diff.changed.contains(step.id) ? .changed : .unchanged
            let livePath =
                change == .added ? ShadowStepPath.absent : Self.path(of: step.id, in: live, held: nil)
            let shadowPath = Self.path(of: step.id, in: replay.shadow, held: replay.held[step.id])
            var report = ShadowStepReport(
                step: step.id, definition: change, live: livePath, shadow: shadowPath, difference: .none,
                liveAction: nil, shadowAction: nil, waitingOn: [], unexplained: false)
            let hold = replay.held[step.id]
            let liveCondition = livePath.path == .skipped && livePath.reason?.hasPrefix("if:") == true
            let shadowCondition = shadowPath.path == .skipped && shadowPath.reason?.hasPrefix("if:") == true
            let waitingOn = Self.heldUpstream(of: step, in: flow, held: replay.held)
            if change == .added {
                report.difference = .new
                if case .unrecorded(let shadow) = hold { report.shadowAction = .object(shadow.json) }
            } else if case .changed(let liveAction, let shadowAction) = hold {
                report.difference = .actionChanged
                report.liveAction = .object(liveAction.json)
                report.shadowAction = .object(shadowAction.json)
            } else if liveCondition != shadowCondition
                && [.reached, .skipped].contains(livePath.path)
                && [.reached, .skipped].contains(shadowPath.path)
            {
                report.difference = .conditionChanged
                if case .unrecorded(let shadow) = hold { report.shadowAction = .object(shadow.json) }
            } else if case .unrecorded(let shadow) = hold {
                report.difference = .unrecorded
                report.shadowAction = .object(shadow.json)
            } else if !waitingOn.isEmpty && !(shadowState.steps[step.id]?.status.isFinal ?? false) {
                report.difference = .outputsUnknown
                report.waitingOn = waitingOn
            } else if livePath != shadowPath {
                report.difference = .pathChanged
            }
            if report.difference != .none { differing.insert(step.id) }
            switch report.difference {
            case .actionChanged, .conditionChanged:
                report.unexplained = change == .unchanged
            case .pathChanged:
                // Unexplained unless something upstream differs too.
                report.unexplained =
                    change == .unchanged && Self.upstream(of: step, in: flow).isDisjoint(with: differing)
            default:
                break
            }
            steps.append(report)
        }
        for id in diff.removed {
            steps.append(
                ShadowStepReport(
                    step: id, definition: .removed, live: Self.path(of: id, in: live, held: nil),
                    shadow: .absent,
                    difference: .removed, liveAction: nil, shadowAction: nil, waitingOn: [],
                    unexplained: false))
        }
        let liveOutcome = liveState.outcome?.rawValue ?? liveState.status.rawValue
        let shadowOutcome = shadowState.outcome?.rawValue ?? "incomplete"
        return ShadowRunReport(
            runID: liveState.trigger?.runID.description ?? "", recordedVersion: recording.version,
            liveOutcome: liveOutcome,
            shadowOutcome: shadowOutcome, steps: steps)
    }

    private static func path(of step: String, in log: ActionLog, held: Hold?) -> ShadowStepPath {
        guard let state = log.state.steps[step] else { return .absent }
        if held != nil {
            return ShadowStepPath(path: .reached, status: ShadowStepPath.notExecuted, reason: nil)
        }
        switch state.status {
        case .pending:
            return ShadowStepPath(path: .notReached, status: nil, reason: nil)
        case .skipped:
            return ShadowStepPath(path: .skipped, status: nil, reason: log.skipReasons[step])
        default:
            return ShadowStepPath(path: .reached, status: state.status.rawValue, reason: nil)
        }
    }

    /// Every step `step` needs, directly or not.
    private static func upstream(of step: StepDefinition, in flow: FlowDefinition) -> Set<String> {
        var reached: Set<String> = []
        var stack = step.needs
        while let next = stack.popLast() {
            guard reached.insert(next).inserted else { continue }
            stack += flow.step(next)?.needs ?? []
        }
        return reached
    }

    /// The held steps `step` needs, directly or not, in flow order.
    private static func heldUpstream(
        of step: StepDefinition, in flow: FlowDefinition, held: [String: Hold]
    ) -> [String] {
        let upstream = upstream(of: step, in: flow)
        return flow.steps.map(\.id).filter { upstream.contains($0) && held[$0] != nil }
    }
}
