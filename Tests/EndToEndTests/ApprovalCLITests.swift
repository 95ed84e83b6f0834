import Foundation
import KeelTestSupport
import Testing

/// `keel approvals`, `keel approve`, `keel reject` and `keel request-changes` as approvers run them: the
/// real CLI against the real approval-service, trigger-intake and step-executor, with tokens made by
/// `keel token create`. Refusals come back as the service's problem (title and detail) with exit 1, and
/// no token ever appears in what the CLI prints.
@Suite struct ApprovalCLITests: KeelCLITesting {
    static let flow = """
        flow: cli-gate
        steps:
          - id: patch
            noop: {}
          - id: review
            needs: [patch]
            approval:
              approvers: ["group:reviewers"]
              summary: "Ship ${{ input.change }}"
              bind: ["${{ input.change }}"]
              request_changes: {step: patch, max_rounds: 2}
          - id: apply
            needs: [review]
            noop: {}
        """

    /// An engine stack plus the approval-service, and tokens by name.
    struct Gate {
        let stack: EngineStack
        let service: ServiceProcess
        let url: String
        var tokens: [String: String] = [:]

        /// Runs `keel ARGS` as the holder of `holder`'s token; returns status, output and the JSON.
        func keel(_ arguments: [String], as holder: String?) async throws
            -> (status: Int32, output: String, json: [String: Any]?)
        {
            let result = try await ServiceProcess.run(
                "keel", arguments: arguments,
                environment: [
                    "KEEL_APPROVAL_SERVICE_URL": url, "KEEL_API_TOKEN": holder.flatMap { tokens[$0] } ?? "",
                ])
            let json = try? JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
            return (result.status, result.output, json)
        }

        /// The pending approvals of `run` (any run when nil) once there is one, as `holder` sees them.
        /// Bounded far beyond what a working engine needs.
        func pendingApproval(of run: String? = nil, as holder: String = "oscar", excluding: Set<String> = [])
            async throws -> [String: Any]
        {
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline {
                let list = try await keel(["approvals", "list", "--json"], as: holder)
                let approvals = (list.json?["approvals"] as? [[String: Any]]) ?? []
                if let found = approvals.first(where: { approval in
                    (run == nil || approval["run_id"] as? String == run)
                        && !excluding.contains(approval["id"] as? String ?? "")
                }) {
                    return found
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            Issue.record("no pending approval for \(run ?? "any run"):\n\(service.output)\n\(stack.logs)")
            throw CancellationError()
        }

        func stop() async throws {
            let status = await service.stop()
            #expect(status == 0, "approval-service did not stop cleanly:\n\(service.output)")
            try await stack.stop()
        }
    }

    func withGate(_ body: (Gate) async throws -> Void) async throws {
        let stack = try await EngineStack(flows: [Self.flow])
        let port = TestHTTP.freePort()
        let service = try ServiceProcess(
            "approval-service",
            environment: stack.environment.merging(["KEEL_HTTP_PORT": "\(port)"]) { _, new in new })
        let url = "http://127.0.0.1:\(port)"
        var gate = Gate(stack: stack, service: service, url: url)
        do {
            let ready = await TestHTTP.waitFor(url + "/health/ready", status: 200)
            try #require(ready?.status == 200, "approval-service not ready:\n\(service.output)")
            // rui reviews; oscar operates (sees all, lists nothing); olga is in another group; e2e is a
            // reviewer who publishes triggers too, and so would approve their own run.
            for (name, role, group) in [
                ("rui", "approver", "reviewers"), ("oscar", "operator", "ops"),
                ("olga", "approver", "finance"),
                ("e2e", "approver", "reviewers"),
            ] {
                let created = try await keel(
                    ["token", "create", "--name", name, "--role", role, "--group", group, "--json"],
                    database: stack.database)
                gate.tokens[name] = try #require((created.json as? [String: Any])?["token"] as? String)
            }
            try await body(gate)
        } catch {
            try? await gate.stop()
            throw error
        }
        try await gate.stop()
    }

    @Test func anApproverApprovesAndEveryRefusalSaysWhy() async throws {
        try await withGate { gate in
            // e2e publishes with broker credentials of their own, so they are the run's requester.
            try await gate.stack.trigger(
                "cli-gate", input: #"{"change": "v2"}"#,
                as: .account(url: try await gate.stack.publisher(for: "e2e")))
            let pending = try await gate.pendingApproval()
            let id = try #require(pending["id"] as? String)
            let digests = try #require(pending["digests"] as? [String])
            #expect(digests.count == 1)
            var outputs: [String] = []

            // An outsider sees nothing and learns nothing.
            let outsiderList = try await gate.keel(["approvals", "list", "--json"], as: "olga")
            #expect(outsiderList.status == 0)
            #expect((outsiderList.json?["approvals"] as? [Any])?.isEmpty == true)
            let outsiderShow = try await gate.keel(["approvals", "show", id, "--json"], as: "olga")
            #expect(outsiderShow.status == 1)
            #expect((outsiderShow.json?["error"] as? String)?.hasPrefix("No such approval") == true)

            // The approver sees the summary, the bound digest and the run's timeline.
            let show = try await gate.keel(["approvals", "show", id, "--json"], as: "rui")
            #expect(show.status == 0)
            #expect((show.json?["approval"] as? [String: Any])?["summary"] as? String == "Ship v2")
            #expect((show.json?["timeline"] as? [String: Any])?["status"] as? String == "waiting")
            let text = try await gate.keel(["approvals", "show", id], as: "rui")
            #expect(text.status == 0)
            #expect(text.output.contains("Ship v2") && text.output.contains(digests[0]))
            #expect(text.output.contains("group:reviewers"))

            // Refusals: not an approver (403), own run (403), stale digests (409).
            let operatorApproves = try await gate.keel(["approve", id, "--json"], as: "oscar")
            #expect(operatorApproves.status == 1)
            #expect((operatorApproves.json?["error"] as? String)?.contains("Not an approver") == true)
            let ownRun = try await gate.keel(["approve", id], as: "e2e")
            #expect(ownRun.status == 1)
            #expect(ownRun.output.contains("keel: Cannot approve your own run"))
            #expect(ownRun.output.contains("(HTTP 403)"))
            let stale = try await gate.keel(
                ["approve", id, "--digest", String(repeating: "0", count: 64), "--json"], as: "rui")
            #expect(stale.status == 1)
            #expect((stale.json?["error"] as? String)?.contains("Bound artifacts changed") == true)
            #expect((stale.json?["error"] as? String)?.contains("HTTP 409") == true)
            outputs += [
                outsiderShow.output, show.output, text.output, operatorApproves.output, ownRun.output,
            ]

            let approve = try await gate.keel(
                ["approve", id, "--note", "looks right", "--digest", digests[0], "--json"], as: "rui")
            #expect(approve.status == 0, "\(approve.output)")
            let approved = try #require(approve.json?["approval"] as? [String: Any])
            #expect(approved["status"] as? String == "approved")
            let decision = try #require((approved["decisions"] as? [[String: Any]])?.first)
            #expect(decision["approver"] as? String == "rui")
            #expect(decision["note"] as? String == "looks right")
            #expect(decision["digests"] as? [String] == digests)

            let again = try await gate.keel(["approve", id], as: "rui")
            #expect(again.status == 1)
            #expect(again.output.contains("Approval already closed"))
            #expect(again.output.contains("(HTTP 409)"))
            outputs += [approve.output, again.output]

            let runs = try await gate.stack.waitForFinishedRuns("cli-gate", count: 1)
            #expect(Array(runs.values) == ["succeeded"])

            // A token the service does not know: 401, and the CLI says where tokens come from.
            var forged = gate
            forged.tokens["mallory"] = "keel_0123456789abcdef_" + String(repeating: "x", count: 43)
            let unknown = try await forged.keel(["approvals", "list"], as: "mallory")
            #expect(unknown.status == 1)
            #expect(unknown.output.contains("(HTTP 401)") && unknown.output.contains("KEEL_API_TOKEN"))
            outputs.append(unknown.output)

            for output in outputs {
                for token in forged.tokens.values {
                    #expect(!output.contains(token))
                }
            }
        }
    }

    @Test func rejectFailsTheRunAndRequestChangesLoopsBackOnce() async throws {
        try await withGate { gate in
            try await gate.stack.trigger("cli-gate", input: #"{"change": "reject-me"}"#)
            let first = try await gate.pendingApproval()
            let rejectedRun = try #require(first["run_id"] as? String)
            let firstID = try #require(first["id"] as? String)

            let emptyNote = try await gate.keel(["reject", firstID, "--note", " "], as: "rui")
            #expect(emptyNote.status == 1)
            #expect(emptyNote.output.contains("--note"))
            let reject = try await gate.keel(["reject", firstID, "--note", "wrong approach"], as: "rui")
            #expect(reject.status == 0, "\(reject.output)")
            #expect(reject.output.contains("rejected \(firstID); the approval is now rejected"))
            #expect(reject.output.contains("rui  reject: wrong approach"))

            try await gate.stack.trigger("cli-gate", input: #"{"change": "loop"}"#)
            let second = try await gate.pendingApproval(excluding: [firstID])
            let loopRun = try #require(second["run_id"] as? String)
            let secondID = try #require(second["id"] as? String)
            let changes = try await gate.keel(
                ["request-changes", secondID, "--note", "add a test", "--json"], as: "rui")
            #expect(changes.status == 0, "\(changes.output)")
            #expect(
                (changes.json?["approval"] as? [String: Any])?["status"] as? String == "changes_requested")

            // The chain from `patch` runs again and the gate asks anew: a new approval of the same run.
            let again = try await gate.pendingApproval(of: loopRun, excluding: [secondID])
            let againID = try #require(again["id"] as? String)
            #expect(againID != secondID)
            let approve = try await gate.keel(["approve", againID, "--note", "now it is fine"], as: "rui")
            #expect(approve.status == 0, "\(approve.output)")
            #expect(approve.output.contains("the approval is now approved (1 of 1 approvals)"))

            let all = try await gate.keel(["approvals", "list", "--status", "all", "--json"], as: "rui")
            let statuses = ((all.json?["approvals"] as? [[String: Any]]) ?? []).compactMap {
                $0["status"] as? String
            }
            #expect(statuses.sorted() == ["approved", "changes_requested", "rejected"])

            let runs = try await gate.stack.waitForFinishedRuns("cli-gate", count: 2)
            #expect(runs[rejectedRun.lowercased()] == "failed")
            #expect(runs[loopRun.lowercased()] == "succeeded")
        }
    }

    @Test func withoutATokenOrAServiceTheCLISaysWhatIsMissing() async throws {
        let port = TestHTTP.freePort()
        let noToken = try await ServiceProcess.run(
            "keel", arguments: ["approvals", "list"],
            environment: ["KEEL_APPROVAL_SERVICE_URL": "http://127.0.0.1:\(port)", "KEEL_API_TOKEN": ""])
        #expect(noToken.status == 1)
        #expect(noToken.output.contains("no API token: set KEEL_API_TOKEN or pass --token"))

        let secret = "keel_0123456789abcdef_" + String(repeating: "x", count: 43)
        let unreachable = try await ServiceProcess.run(
            "keel", arguments: ["approve", "some-id", "--json"],
            environment: ["KEEL_APPROVAL_SERVICE_URL": "http://127.0.0.1:\(port)", "KEEL_API_TOKEN": secret])
        #expect(unreachable.status == 2)
        #expect(unreachable.output.contains("\"kind\" : \"infrastructure\""))
        #expect(unreachable.output.contains("not reachable"))
        #expect(!unreachable.output.contains("xxxxxxxx"))

        let badStatus = try await ServiceProcess.run(
            "keel", arguments: ["approvals", "list", "--status", "done"],
            environment: ["KEEL_APPROVAL_SERVICE_URL": "http://127.0.0.1:\(port)", "KEEL_API_TOKEN": secret])
        #expect(badStatus.status == 1)
        #expect(badStatus.output.contains("--status done: expected one of pending"))
    }
}
