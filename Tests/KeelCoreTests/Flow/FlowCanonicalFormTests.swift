import Foundation
import Testing

@testable import KeelCore

@Suite("Flow canonical form")
struct FlowCanonicalFormTests {
    static let reference = """
        flow: deploy
        description: Build and ship.
        input: {type: object, required: [ref]}
        concurrency: {key: "${{ input.ref }}", limit: 2}
        steps:
          - id: build
            run: {command: [make, build], env: {A: "1", B: "2"}, timeout: 90m}
            retry: {max_attempts: 3, on: [transient, timeout]}
            runs_on: [linux, large]
          - id: test
            needs: [build]
            run: {command: [make, test]}
          - id: ship
            needs: [test, build]
            approval: {approvers: [bob, "group:ops"], timeout: 1d}
        """

    /// The same flow: other layout, key order, comments, anchors, defaults spelled out,
    /// durations and sets written differently.
    static let reformatted = """
        # Deploy flow, reformatted.
        steps:
        - needs: []
          id: build
          runs_on:
            - large
            - linux
          retry:
            on: [timeout, transient]     # order of a set does not matter
            backoff: exponential          # the default
            initial: 1s                   # the default
            jitter: true                  # the default
            max_attempts: 3
          run:
            timeout: 1h30m
            env: &env
              B: '2'
              A: "1"
            command:
              - make
              - build
        - id: test
          needs: [build]
          run: {command: [make, test]}
        - id: ship
          needs: [build, test]
          approval:
            timeout: 24h
            approvers: ["group:ops", bob]
            required_approvals: 1
            allow_self_approval: false
            on_timeout: reject
        concurrency: {limit: 2, key: "${{ input.ref }}"}
        input:
          required: [ref]
          type: object
        description: "Build and ship."
        flow: deploy
        """

    @Test func sameDefinitionHashesTheSame() throws {
        let first = try FlowTest.parse(Self.reference)
        let second = try FlowTest.parse(Self.reformatted)
        #expect(first == second)
        #expect(first.canonicalJSON == second.canonicalJSON)
        #expect(first.contentHash == second.contentHash)
        #expect(first.contentHash.count == 64)
        #expect(first.contentHash == ContentDigest.sha256Hex(of: Array(first.canonicalJSON.utf8)))
    }

    @Test func canonicalJSONIsSortedAndOmitsDefaults() throws {
        let flow = try FlowTest.parse(
            "flow: tiny\nsteps:\n  - id: a\n    retry: {max_attempts: 2, jitter: true}\n    noop: {}\n")
        #expect(
            flow.canonicalJSON
                == #"{"flow":"tiny","steps":[{"id":"a","noop":{},"retry":{"max_attempts":2}}]}"#)
    }

    @Test(
        "every semantic change changes the hash",
        arguments: [
            ("flow: deploy", "flow: deploy2"),
            ("description: Build and ship.", "description: Build and ship!"),
            ("required: [ref]}", "required: [ref, env]}"),
            ("limit: 2}", "limit: 3}"),
            ("[make, build]", "[make, build2]"),
            ("[make, build]", "[build, make]"),
            ("A: \"1\"", "A: \"01\""),
            ("timeout: 90m}", "timeout: 91m}"),
            ("max_attempts: 3", "max_attempts: 4"),
            ("on: [transient, timeout]", "on: [transient]"),
            ("runs_on: [linux, large]", "runs_on: [linux]"),
            ("needs: [test, build]", "needs: [test]"),
            ("approvers: [bob,", "approvers: [alice,"),
            ("timeout: 1d}", "timeout: 1d, on_timeout: fail}"),
            ("timeout: 1d}", "timeout: 1d, allow_self_approval: true}"),
            ("  - id: ship", "  - id: shipit"),
        ])
    func semanticChangeChangesTheHash(original: String, changed: String) throws {
        #expect(Self.reference.contains(original))
        let base = try FlowTest.parse(Self.reference)
        let modified = try FlowTest.parse(Self.reference.replacingOccurrences(of: original, with: changed))
        #expect(base.contentHash != modified.contentHash)
        #expect(base != modified)
    }

    @Test func stepOrderIsPartOfTheDefinition() throws {
        let first = try FlowTest.parse("flow: x\nsteps: [{id: a, noop: {}}, {id: b, noop: {}}]\n")
        let second = try FlowTest.parse("flow: x\nsteps: [{id: b, noop: {}}, {id: a, noop: {}}]\n")
        #expect(first.contentHash != second.contentHash)
    }

    @Test func codableRoundTripThroughJSON() throws {
        let flow = try FlowTest.parse(try FlowTest.example("safe-code-change.yaml"))
        let data = try JSONEncoder().encode(flow)
        let decoded = try JSONDecoder().decode(FlowDefinition.self, from: data)
        #expect(decoded == flow)
        #expect(decoded.contentHash == flow.contentHash)
        let reparsed = try JSONValue(parsing: flow.canonicalJSON)
        #expect(try FlowDefinition(canonicalJSON: reparsed) == flow)
    }

    @Test func decodingInvalidJSONReportsPaths() throws {
        let json: JSONValue = ["flow": "x", "steps": [["id": "a", "run": ["command": []]]]]
        do {
            _ = try FlowDefinition(canonicalJSON: json)
            Issue.record("expected an error")
        } catch {
            #expect(error.errors.map(\.path) == ["steps[0].run.command"])
            #expect(error.errors.first?.position == .unknown)
            #expect(error.description == "<json>: steps[0].run.command: expected at least one element")
        }
    }

    @Test(
        "SHA-256 matches the NIST vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
            ),
        ])
    func sha256Vectors(message: String, digest: String) {
        #expect(ContentDigest.sha256Hex(of: Array(message.utf8)) == digest)
    }

    @Test func sha256OfAMillionAs() {
        #expect(
            ContentDigest.sha256Hex(of: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Messages of n × "a" around the 55/56/64-byte padding boundaries (digests from `sha256sum`).
    @Test(
        "padding boundaries",
        arguments: [
            (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
            (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
            (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
            (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
            (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
            (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
            (120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
        ])
    func sha256PaddingBoundaries(length: Int, digest: String) {
        #expect(ContentDigest.sha256Hex(of: [UInt8](repeating: UInt8(ascii: "a"), count: length)) == digest)
    }
}

@Suite("Flow step coding")
struct FlowStepCodingTests {
    @Test func stepRoundTripsThroughJSON() throws {
        let flow = try FlowTest.parse(try FlowTest.example("bulk-data-fix.yaml"))
        for step in flow.steps {
            let data = try JSONEncoder().encode(step)
            #expect(try JSONDecoder().decode(StepDefinition.self, from: data) == step)
        }
    }

    @Test func invalidStepJSONThrowsFlowErrors() throws {
        let data = Data(#"{"id": "a", "run": {"command": ["x"], "timeout": "soon"}}"#.utf8)
        #expect(throws: FlowErrors.self) { try JSONDecoder().decode(StepDefinition.self, from: data) }
    }
}
