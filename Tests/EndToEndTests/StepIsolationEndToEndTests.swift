import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A hostile `run` step against the real step-executor, run as root as `scripts/stack` runs it: it tries
/// every way to a secret it knows of, and neither it nor what Keel stores of it gets any.
///
/// What the step reads it prints hex-encoded, which masking cannot recognise: so a secret in the stored
/// report means the step really got it, and a secret in plain text anywhere means masking missed it.
@Suite(.serialized, .enabled(if: geteuid() == 0, "step isolation needs root"))
struct StepIsolationEndToEndTests {
    static let flow = """
        flow: hostile-step
        input: {type: object}
        steps:
          - id: victim
            run:
              env: {PROBE: "${{ secrets.PROBE }}"}
              command:
                - sh
                - -c
                - |
                  echo "$PROBE" > secret.txt
                  (umask 0; echo "$PWD $$" > "$0/victim.tmp"; mv "$0/victim.tmp" "$0/victim")
                  i=0; while [ ! -e "$0/done" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
                - "${{ input.scratch }}"
          - id: hostile
            run:
              env: {PROBE: "${{ secrets.PROBE }}"}
              command:
                - sh
                - -c
                - |
                  hex() { od -An -tx1 | tr -d ' \\n'; }
                  opens() { if (exec 3< "$1") 2>/dev/null; then echo opened; else echo denied; fi; }
                  i=0; while [ ! -e "$0/victim" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
                  read dir pid < "$0/victim"
                  echo "uid:$(id -u)"
                  # Its own descriptors, but for the one ls reads /proc/self/fd through.
                  ls -l /proc/self/fd/ > fds.txt
                  echo "fds:$(awk '/->/ && $NF !~ /^\\/proc\\/[0-9]+\\/fd$/ { printf "%s ", $(NF-2) }' fds.txt)"
                  echo "executor-environ:$(opens /proc/$PPID/environ):$(cat /proc/$PPID/environ 2>/dev/null | hex)"
                  echo "executor-mem:$(opens /proc/$PPID/mem)"
                  echo "executor-maps:$(opens /proc/$PPID/maps):$(cat /proc/$PPID/maps 2>/dev/null | hex)"
                  echo "executor-fds:$(ls /proc/$PPID/fd 2>/dev/null | hex)"
                  environs=""; cmdlines=""
                  for p in /proc/[0-9]*; do
                    [ "$(stat -c %u "$p" 2>/dev/null)" = "$(id -u)" ] && continue
                    environs="$environs$(cat "$p/environ" 2>/dev/null | hex)"
                    cmdlines="$cmdlines$(cat "$p/cmdline" 2>/dev/null | hex)"
                  done
                  echo "all-environ:$environs"
                  echo "all-cmdline:$cmdlines"
                  echo "key-file:$(cat "$1" 2>/dev/null | hex)"
                  echo "state-env:$(cat "$2" 2>/dev/null | hex)"
                  echo "victim-list:$(ls "$dir" 2>/dev/null | hex)"
                  echo "victim-secret:$(cat "$dir/secret.txt" 2>/dev/null | hex)"
                  echo "victim-environ:$(cat /proc/$pid/environ 2>/dev/null | hex)"
                  echo "victim-cwd:$(ls /proc/$pid/cwd/ 2>/dev/null | hex)"
                  echo "siblings:$(ls "$(dirname "$PWD")" 2>/dev/null | hex)"
                  touch "$0/done"
                  # What it knows or found it prints in plain text: masking must catch all of it.
                  echo "plain $PROBE"; printf 'split %s' "$(echo "$PROBE" | cut -c1-6)"; sleep 0.3; echo "$PROBE" | cut -c7-
                  while read -r leaked; do echo "leaked $leaked"; echo "leaked $leaked" >&2; done < "$3"
                  printf '{"probe": "%s", "leaked": "%s"}' "$PROBE" "$(tr '\\n' ' ' < "$3")" > "$KEEL_OUTPUT"
                - "${{ input.scratch }}"
                - "${{ input.key_file }}"
                - "${{ input.state_env }}"
                - "${{ input.leaked }}"
          - id: sneaky
            needs: [hostile]
            run:
              command: [sh, -c, 'echo "$1" >&2; ln -sf "$0" "$KEEL_OUTPUT"', "${{ input.root_only }}", "${{ secrets.PROBE }}"]
        """

    @Test func aHostileStepGetsNoSecretAndNothingStoredOfItHoldsOne() async throws {
        let probe = "probe-\(UUID().uuidString.lowercased())"
        let unused = "unused-\(UUID().uuidString.lowercased())"
        let callbackKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let stack = try await EngineStack(
            flows: [Self.flow],
            environment: [
                "KEEL_SECRET_PROBE": probe, "KEEL_SECRET_UNUSED": unused,
                "KEEL_CALLBACK_KEYS": "e2e:\(callbackKey)", "KEEL_CALLBACK_GATEWAY_URL": "http://127.0.0.1:9",
            ])
        // A file of secrets only root may read, and one the step can read: as if it had found them.
        let rootOnly = stack.scratch.appendingPathComponent("root-only.json").path
        try #"{"stolen": "\#(unused)"}"#.write(toFile: rootOnly, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: rootOnly)
        let leaked = stack.scratch.appendingPathComponent("leaked").path
        try "\(unused)\n\(callbackKey)\n".write(toFile: leaked, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: leaked)
        let keyFile = ProcessInfo.processInfo.environment["KEEL_SSH_KEY"] ?? rootOnly
        let stateEnv = (ProcessInfo.processInfo.environment["KEEL_STATE_DIR"] ?? "/nonexistent") + "/env"
        let secrets = [probe, unused, callbackKey]

        let input: JSONValue = [
            "scratch": .string(stack.scratch.path), "key_file": .string(keyFile),
            "state_env": .string(stateEnv),
            "leaked": .string(leaked), "root_only": .string(rootOnly),
        ]
        try await stack.trigger("hostile-step", input: input.jsonString(), key: "hostile")
        let run = try await stack.runID(key: "hostile", flow: "hostile-step")
        #expect(try await stack.finish(run, expected: "failed") == "failed")
        let history = try await stack.history(run)

        let outputs = try #require(
            history.compactMap { fact -> JSONObject? in
                guard case .stepSucceeded("hostile", _, let outputs) = fact.event else { return nil }
                return outputs
            }.last, "\(history.map(\.event))\n\(stack.logs)")
        let report = try await stack.text(of: outputs["stdout"])
        let stderr = try await stack.text(of: outputs["stderr"])
        var probes: [String: [String]] = [:]
        for line in report.split(separator: "\n") {
            let parts = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            if parts.count >= 2 { probes[parts[0]] = Array(parts.dropFirst()) }
        }
        // Not the executor's user, and nothing but 0, 1 and 2 open.
        let uid = try #require(probes["uid"]?.first.flatMap { UInt32($0) }, "\(report)")
        #expect(uid != getuid() && uid >= 1000, "\(report)")
        #expect(probes["fds"] == ["0 1 2 "], "\(report)")
        // The executor's process, the other processes, its key files and the other attempt: all shut.
        #expect(probes["executor-environ"] == ["denied", ""], "\(report)")
        #expect(probes["executor-mem"] == ["denied"], "\(report)")
        #expect(probes["executor-maps"] == ["denied", ""], "\(report)")
        for name in [
            "executor-fds", "all-environ", "key-file", "state-env", "victim-list", "victim-secret",
            "victim-environ",
            "victim-cwd", "siblings",
        ] {
            #expect(probes[name] == [""], "\(name): \(report.prefix(2000))")
        }
        let decoded = Self.decodeHex(probes["all-cmdline"]?.first ?? "")
        for secret in secrets { #expect(!decoded.contains(secret), "a command line holds a secret") }

        // What it printed in plain text is masked, whole or split across two reads.
        #expect(
            report.contains("plain ***") && report.contains("split ***") && report.contains("leaked ***"),
            "\(report)")
        #expect(stderr.contains("leaked ***"), "\(stderr)")
        // The symlinked output fails its step with a clear message and no content.
        let sneaky = history.compactMap { fact -> String? in
            guard case .stepFailed("sneaky", _, let errorClass, let message) = fact.event else { return nil }
            return "\(errorClass.rawValue) \(message)"
        }
        #expect(sneaky.first?.hasPrefix("permanent KEEL_OUTPUT") == true, "\(sneaky)")
        #expect(sneaky.first?.contains("symbolic link") == true, "\(sneaky)")

        // Nothing stored holds a secret: streams, outputs, the history.
        var stored = [report, stderr, JSONValue.object(outputs).jsonString()]
        stored += history.map { "\($0.event)" }
        for fact in history {
            if case .stepSucceeded(_, _, let outputs) = fact.event {
                for value in outputs.values where ResourceStore.storedReference(in: value) != nil {
                    stored.append(try await stack.text(of: value))
                }
            }
        }
        for text in stored {
            for secret in secrets {
                #expect(!text.contains(secret), "stored text holds a secret: \(text.prefix(300))")
            }
        }
        try await stack.stop()
    }

    @Test func anExecutorThatCannotGiveEachAttemptAUidRefusesToStart() async throws {
        let process = try ServiceProcess(
            "step-executor",
            environment: [
                "KEEL_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
                "KEEL_AMQP_URL": "amqp://127.0.0.1:1",
                "KEEL_HTTP_PORT": "\(TestHTTP.freePort())", "KEEL_STEP_UID_RANGE": "2000000-2000001",
                "KEEL_AMQP_PREFETCH": "8",
            ])
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(!process.isRunning, "it started without a uid per attempt")
        #expect(await process.stop() == 2)
        #expect(process.output.contains("cannot isolate run steps"), "\(process.output)")
    }

    static func decodeHex(_ hex: String) -> String {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex), next > index {
            if let byte = UInt8(hex[index..<next], radix: 16) { bytes.append(byte) }
            index = next
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
