import ArgumentParser
import Foundation

/// `--url`, `--token` and `--json`, shared by the commands that talk to the approval-service.
struct ApprovalServiceOptions: ParsableArguments {
    @Option(
        help: """
            The approval-service's URL (default: KEEL_APPROVAL_SERVICE_URL, then .keel/env, then \
            http://127.0.0.1:7403).
            """)
    var url: String?

    @Option(
        help: """
            API token (default: KEEL_API_TOKEN, then .keel/env). Prefer the environment: a flag is visible \
            to other users in the process list. Never printed.
            """)
    var token: String?

    @Flag(help: "Print the API's JSON document instead of text (shapes in docs/cli.md).")
    var json = false

    var output: CLIOutput { CLIOutput(json: json) }

    /// Builds the client from the flags and settings, runs `body`, and turns any failure into the
    /// documented exit code with a message (standard error, or a JSON error document with `--json`).
    func withClient<T: Sendable>(_ body: (ApprovalClient) async throws -> T) async throws -> T {
        do {
            return try await body(try client())
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw output.fail(CLIFailure.from(error))
        }
    }

    func client() throws -> ApprovalClient {
        let settings = CLISettings()
        let address = settings.value("KEEL_APPROVAL_SERVICE_URL", flag: url, default: "http://127.0.0.1:7403")
        guard let baseURL = URL(string: address), let scheme = baseURL.scheme,
            ["http", "https"].contains(scheme.lowercased()), baseURL.host != nil
        else {
            throw CLIFailure.user(
                "approval-service URL (KEEL_APPROVAL_SERVICE_URL or --url): expected http(s)://HOST[:PORT]")
        }
        let token = settings.value("KEEL_API_TOKEN", flag: token, default: "")
        guard !token.isEmpty else {
            throw CLIFailure.user(
                "no API token: set KEEL_API_TOKEN or pass --token (an admin creates one with keel token create)"
            )
        }
        return ApprovalClient(baseURL: baseURL, token: token)
    }

    /// Prints the API's body as it came (with `--json`), else `text` of the decoded document.
    func emit<Document: Decodable>(_ body: Data, as type: Document.Type, text: (Document) -> String) throws {
        if json {
            print(String(decoding: body, as: UTF8.self))
            return
        }
        let document: Document
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            document = try decoder.decode(Document.self, from: body)
        } catch {
            throw output.fail(
                .infrastructure("approval-service sent an answer this keel cannot read: \(error)"))
        }
        print(text(document))
    }
}
