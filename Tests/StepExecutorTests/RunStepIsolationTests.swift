import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import Testing

@testable import step_executor

#if canImport(Glibc)
    import Glibc
#endif

/// `run` steps as the executor runs them as root (`KEEL_STEP_ISOLATION=uid-range`): a uid of their
/// own, nothing but stdin, stdout and stderr open, outputs read without following the step's links, and
/// every secret masked however it is printed.
@Suite(.enabled(if: geteuid() == 0, "switching users needs root"))
struct RunStepIsolationTests {
    static func users() throws -> StepUserPool {
        try StepUserPool(
            range: 3_300_000...3_300_049, setpriv: try #require(StepIsolation.findSetpriv()),
            lockDirectory: FileManager.default.temporaryDirectory.appendingPathComponent(
                "keel-uid-locks-isolation"
            ).path)
    }

    static func step(_ script: String, env: [String: String] = [:], outputs: [String: StepOutput] = [:])
        -> StepDefinition
    {
        StepDefinition(
            id: "probe", kind: .run(RunAction(command: ["sh", "-c", script], env: env)), outputs: outputs)
    }

    @Test func theStepRunsAsAUidOfItsOwnWithNoGroupsAndOnlyThreeDescriptors() async throws {
        try await withResourceStore { resources in
            let kinds = StepKinds.testing(resources, stepUsers: try Self.users())
            let outcome = try await kinds.execute(
                work(
                    Self.step(
                        #"id -u; id -g; id -G; ls -l /proc/self/fd/ > fds.txt; awk '/->/ && $NF !~ /^\/proc\/[0-9]+\/fd$/ { printf "%s ", $(NF-2) }' fds.txt; echo; pwd; stat -c %a .; grep NoNewPrivs /proc/$$/status"#
                    )))
            let outputs = try #require(outcome.outputs, "\(outcome)")
            let lines = try await resources.text(of: outputs["stdout"]).split(separator: "\n").map(
                String.init)
            try #require(lines.count == 7, "\(lines)")
            let uid = try #require(UInt32(lines[0]))
            #expect((3_300_000...3_300_049).contains(uid))
            #expect(uid != getuid())
            #expect(lines[1] == lines[0] && lines[2] == lines[0])
            #expect(lines[3] == "0 1 2 ")
            #expect(lines[5] == "700")
            #expect(lines[6].hasSuffix("1"))
            // The attempt's directory is gone, its parent can be entered but not listed.
            #expect(!FileManager.default.fileExists(atPath: lines[4]))
            let parent = (lines[4] as NSString).deletingLastPathComponent
            let mode = try FileManager.default.attributesOfItem(atPath: parent)[.posixPermissions] as? Int
            #expect(mode == 0o711)
        }
    }

    @Test func twoAttemptsAtOnceCannotReadEachOthersDirectoryOrProcess() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "keel-isolation-\(UUID())"
        ).path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try await withResourceStore { resources in
            let kinds = StepKinds.testing(resources, stepUsers: try Self.users())
            // The victim keeps a secret in its directory and publishes where it is and its pid.
            let victim = Self.step(
                #"echo victim-secret-value > secret.txt; (umask 0; echo "$PWD $$" > "$0/victim.tmp"; mv "$0/victim.tmp" "$0/victim"); i=0; while [ ! -e "$0/done" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done"#
                    .replacingOccurrences(of: "$0", with: scratch))
            let thief = Self.step(
                #"""
                i=0; while [ ! -e "$S/victim" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done
                read dir pid < "$S/victim"
                echo "list:$(ls "$dir" 2>&1 | od -An -tx1 | tr -d ' \n')"
                echo "read:$(cat "$dir/secret.txt" 2>/dev/null | od -An -tx1 | tr -d ' \n')"
                echo "cwd:$(ls /proc/$pid/cwd/ 2>/dev/null | od -An -tx1 | tr -d ' \n')"
                echo "environ:$(cat /proc/$pid/environ 2>/dev/null | od -An -tx1 | tr -d ' \n')"
                echo "parent:$(ls "$(dirname "$PWD")" 2>/dev/null | od -An -tx1 | tr -d ' \n')"
                touch "$S/done"
                """#, env: ["S": scratch])
            async let victimOutcome = kinds.execute(work(victim))
            let thiefOutcome = try await kinds.execute(work(thief))
            #expect(try await victimOutcome.outputs != nil)
            let outputs = try #require(thiefOutcome.outputs, "\(thiefOutcome)")
            let report = try await resources.text(of: outputs["stdout"])
            for probe in ["read", "cwd", "environ", "parent"] {
                #expect(
                    report.contains("\n\(probe):\n") || report.hasPrefix("\(probe):\n"),
                    "\(probe) in \(report)")
            }
            // ls says why it failed, and nothing of what is inside.
            #expect(!report.contains(Self.hex("secret.txt")), "\(report)")
        }
    }

    @Test func anOutputFileReplacedByASymlinkFailsTheAttemptWithoutTheFilesContents() async throws {
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("keel-secret-\(UUID())")
            .path
        try #"{"stolen": "root-only-secret-value"}"#.write(toFile: secret, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: secret) }
        try await withResourceStore { resources in
            for users in [try Self.users(), nil] {
                let kinds = StepKinds.testing(resources, stepUsers: users)
                let output = try await kinds.execute(
                    work(
                        Self.step(#"ln -sf "$0" "$KEEL_OUTPUT""#.replacingOccurrences(of: "$0", with: secret))
                    ))
                #expect(output.errorClass == .permanent)
                #expect(output.message.contains("is a symbolic link"), "\(output)")
                #expect(!output.message.contains("root-only-secret-value"))
                let declared = try await kinds.execute(
                    work(
                        Self.step(
                            #"ln -s "$0" report.json"#.replacingOccurrences(of: "$0", with: secret),
                            outputs: ["report": .resource(name: "report.json", mediaType: "application/json")]
                        )))
                #expect(declared.errorClass == .permanent)
                #expect(declared.message.contains("report.json is a symbolic link"), "\(declared)")
            }
        }
    }

    @Test func everyKnownSecretIsMaskedInStreamsOutputsAndMessagesEvenSplitAcrossReads() async throws {
        let source = SecretSource(environment: [
            "KEEL_SECRET_USED": "used-secret-0001", "KEEL_SECRET_UNUSED": "unused-secret-0002",
            "KEEL_CALLBACK_KEYS": "k1:callback-key-0003",
            "KEEL_DATABASE_URL": "postgres://keel:database-pass-0004@127.0.0.1/keel",
        ])
        let known = ["used-secret-0001", "unused-secret-0002", "callback-key-0003", "database-pass-0004"]
        // The step knows the values (here from the test) and prints them whole, in halves between two
        // reads, to stderr and into its outputs.
        let script = #"""
            for s in unused-secret-0002 callback-key-0003 database-pass-0004 "$USED"; do
              echo "whole $s"; printf 'split %s' "$(echo "$s" | cut -c1-5)"; sleep 0.2; echo "$s" | cut -c6-
              echo "err $s" >&2
            done
            printf '{"a": "database-pass-0004", "callback-key-0003": "%s"}' "$USED" > "$KEEL_OUTPUT"
            """#
        try await withResourceStore { resources in
            let kinds = StepKinds.testing(resources, secretSource: source, stepUsers: try Self.users())
            let outcome = try await kinds.execute(
                work(Self.step(script, env: ["USED": "${{ secrets.USED }}"])))
            let outputs = try #require(outcome.outputs, "\(outcome)")
            let stdout = try await resources.text(of: outputs["stdout"])
            let stderr = try await resources.text(of: outputs["stderr"])
            #expect(stdout.contains("whole ***") && stdout.contains("split ***"), "\(stdout)")
            for value in known {
                #expect(!stdout.contains(value) && !stderr.contains(value))
                #expect(!JSONValue.object(outputs).jsonString().contains(value))
            }
            let failed = try await kinds.execute(
                work(Self.step(script + "; exit 1", env: ["USED": "${{ secrets.USED }}"])))
            #expect(failed.errorClass == .transient)
            for value in known { #expect(!failed.message.contains(value), "\(failed.message)") }
        }
    }

    static func hex(_ text: String) -> String {
        text.utf8.map { String(format: "%02x", $0) }.joined()
    }
}
