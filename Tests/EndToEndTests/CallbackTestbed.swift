import Foundation
import KeelCore
import KeelTestSupport
import Testing

/// What the callback end-to-end tests run on: callback keys, the test sshd of scripts/servers/sshd.sh as the
/// GPU host `gpu-1` of Examples/gpu-benchmark.yaml (and as `gpu-impostor`, pinned to a host key it does not
/// have), and stand-ins for the example's tools: `ci/build.sh` on the executor, `bench/start.sh` on the
/// host, which calls back with the real `keel callback` the way `mode` tells it to.
struct CallbackTestbed {
    let root: URL
    let keys: CallbackKeyRing
    /// The gateway's upload limit in these tests.
    static let uploadLimit = 1 << 20
    /// `KEEL_CALLBACK_KEYS` for the services.
    let keysSetting: String
    let gatewayPort: Int

    var checkout: URL { root.appendingPathComponent("checkout") }
    /// The host's side: the job script, and `out/` where jobs leave what the tests check.
    var remote: URL { root.appendingPathComponent("remote") }
    var out: URL { remote.appendingPathComponent("out") }
    var gatewayURL: String { "http://127.0.0.1:\(gatewayPort)" }

    init() throws {
        root = URL(fileURLWithPath: "/tmp").appendingPathComponent("keel-callbacks-\(UUID().uuidString)")
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        keys = try CallbackKeyRing(keys: ["e2e": secret], signingKeyID: "e2e")
        keysSetting = "e2e:" + Data(secret).base64EncodedString()
        gatewayPort = TestHTTP.freePort()
        let files = FileManager.default
        for folder in [
            checkout.appendingPathComponent("model/ci"), checkout.appendingPathComponent("ci"), out,
        ] {
            try files.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        // The job runs as the sshd's login user: it reads the script and writes to out/.
        for folder in [root, remote, remote.appendingPathComponent("bench")] {
            try files.createDirectory(at: folder, withIntermediateDirectories: true)
            try files.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
        }
        try files.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: out.path)
        try Self.script(
            checkout.appendingPathComponent("model/ci/build.sh"),
            "printf 'model for %s\\n' \"$1\" > model.tar.zst")
        try Self.script(
            checkout.appendingPathComponent("ci/report.py"),
            """
            body=$(cat)
            printf '# Benchmark of %s%s\\n%s\\n' "$2" "${3:+ (partial)}" "$body" > report.md
            """)
        try Self.script(
            checkout.appendingPathComponent("ci/triage.sh"),
            "printf '%s %s %s\\n' \"$KEEL_RUN_ID\" \"$4\" \"$(cat)\" >> '\(root.path)/triaged'")
        let keel = ServiceProcess.binDirectory.appendingPathComponent("keel").path
        try Self.script(
            remote.appendingPathComponent("bench/start.sh"),
            """
            out='\(out.path)'
            mode=$(cat '\(remote.path)/mode')
            echo "$KEEL_RUN_ID $$" >> "$out/started"
            log=$(mktemp)
            printf 'bench %s of %s\\n' "$mode" "$2" > "$log"
            callback() {
                status=0
                '\(keel)' callback "$@" >> "$out/$KEEL_RUN_ID.callbacks" 2>&1 || status=$?
                echo "exit $status" >> "$out/$KEEL_RUN_ID.callbacks"
            }
            case "$mode" in
            succeeded)
                callback --heartbeat --output '{"done": 500}'
                callback --status succeeded --output '{"p50_ms": 1.5, "p99_ms": 4.25, "iterations": 1000}' --resource "log=$log"
                callback --status succeeded --output '{"p50_ms": 9, "p99_ms": 9}' ;;
            partial)
                callback --status partial --output '{"p50_ms": 2, "p99_ms": 7.5, "iterations": 400}' --resource "log=$log" ;;
            failed)
                callback --status failed --output '{"error": "CUDA out of memory"}' --resource "log=$log" ;;
            silent)
                exec sleep 297 ;;
            esac
            rm -f "$log"
            """)
    }

    static func script(_ file: URL, _ body: String) throws {
        try ("#!/bin/sh\nset -eu\n" + body + "\n").write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path)
    }

    /// How the next job behaves: succeeded, partial, failed or silent.
    func setMode(_ mode: String) throws {
        try mode.write(to: remote.appendingPathComponent("mode"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o644], ofItemAtPath: remote.appendingPathComponent("mode").path)
    }

    /// The example as it is, but for where the job script lives (the host's home is not the test's to
    /// write) and, for `name`s other than the example's, a heartbeat interval of `heartbeat`.
    func gpuBenchmark(name: String = "gpu-benchmark", heartbeat: String = "5m") throws -> String {
        let url = TestEnvironment.packageRoot.appendingPathComponent("Examples/gpu-benchmark.yaml")
        var yaml = try String(contentsOf: url, encoding: .utf8)
        for (old, new) in [
            ("./bench/start.sh", remote.appendingPathComponent("bench/start.sh").path),
            ("flow: gpu-benchmark\n", "flow: \(name)\n"),
            ("heartbeat: 5m", "heartbeat: \(heartbeat)"),
        ] {
            let range = try #require(yaml.range(of: old), "the example no longer has \(old)")
            yaml.replaceSubrange(range, with: new)
        }
        return yaml
    }

    /// Settings for every service of the stack: the callback keys and gateway, the GPU hosts (the
    /// client key as the secret GPU_KEY) and the executor's tools.
    func environment() throws -> [String: String] {
        let address = try TestEnvironment.require("KEEL_SSH_HOST")
        let port = try TestEnvironment.require("KEEL_SSH_PORT")
        let user = try TestEnvironment.require("KEEL_SSH_USER")
        let knownHosts = try TestEnvironment.require("KEEL_SSH_KNOWN_HOSTS")
        let keyFile = try TestEnvironment.require("KEEL_SSH_KEY")
        // A real ed25519 key, but the client's, not the host's.
        let impostor = try String(contentsOfFile: keyFile + ".pub", encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        let hosts = """
            {"gpu-1": {"address": "\(address)", "port": \(port), "user": "\(user)", "key_secret": "GPU_KEY",
                       "known_hosts": "\(knownHosts)"},
             "gpu-impostor": {"address": "\(address)", "port": \(port), "user": "\(user)", "key_secret": "GPU_KEY",
                              "host_key": "\(impostor)"}}
            """
        return [
            "KEEL_CALLBACK_KEYS": keysSetting,
            // Its own key signs, whatever signing key the developer's environment (.keel/env) names.
            "KEEL_CALLBACK_SIGNING_KEY": "e2e",
            "KEEL_CALLBACK_GATEWAY_URL": gatewayURL,
            "KEEL_SSH_HOSTS": hosts,
            "KEEL_SECRET_GPU_KEY": try String(contentsOfFile: keyFile, encoding: .utf8),
            "KEEL_RUN_PATH": "/usr/bin:/bin",
            "KEEL_RUN_WORKING_DIR": checkout.path,
            // The fixture's checkout is root's and shared by every attempt (docs/security.md: a shared
            // working directory must be writable by the step uids); isolation has its own tests.
            "KEEL_STEP_ISOLATION": "none",
            "KEEL_CALLBACK_UPLOAD_MAX_BYTES": "\(Self.uploadLimit)",
        ]
    }

    /// A token for `wait` as the step-executor would mint it, or as an attacker would try.
    func token(
        run: String, step: String, attempt: Int = 1, expires: Date = Date().addingTimeInterval(3600),
        keys: CallbackKeyRing? = nil
    ) -> String {
        let id = AttemptID(run: RunID(run)!, step: step, attempt: attempt)
        return CallbackToken.mint(
            CallbackClaims(
                run: id.run, step: step, attempt: attempt, wait: id.waitID,
                expires: Int64(expires.timeIntervalSince1970)),
            keys: keys ?? self.keys)
    }

    func lines(_ name: String) -> [String] {
        let text = (try? String(contentsOf: out.appendingPathComponent(name), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// The lines of `out/<name>` once `done` holds for them, or as they are after a minute.
    func waitForLines(_ name: String, until done: ([String]) -> Bool) async throws -> [String] {
        let deadline = ContinuousClock.now + .seconds(60)
        var current = lines(name)
        while !done(current), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            current = lines(name)
        }
        return current
    }

    func triaged() -> [String] {
        let text = (try? String(contentsOf: root.appendingPathComponent("triaged"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }
}
