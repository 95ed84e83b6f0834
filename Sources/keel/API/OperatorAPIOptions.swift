import ArgumentParser
import Foundation

/// `--api-url` and `--api-token`: where the operators' API is and the token to use. With a token
/// configured (the flag, `KEEL_API_TOKEN` or `.keel/env`), the operator commands (`run cancel|retry`,
/// `flow release|rollback`, `token ...`) go through the approval-service's API as that token's holder,
/// and need no database credentials; without one they work on PostgreSQL directly, as administrators do.
struct OperatorAPIOptions: ParsableArguments {
    @Option(
        help: """
            The approval-service's URL for the operators' API (default: KEEL_APPROVAL_SERVICE_URL, then \
            .keel/env, then http://127.0.0.1:7403).
            """)
    var apiURL: String?

    @Option(
        help: """
            API token to act through the operators' API (default: KEEL_API_TOKEN, then .keel/env). \
            Without one the command works on the database directly. Never printed.
            """)
    var apiToken: String?

    /// The API to use, or nil when no token is configured.
    func connection() throws -> OperatorAPIConnection? {
        let settings = CLISettings()
        let token = settings.value("KEEL_API_TOKEN", flag: apiToken, default: "")
        guard !token.isEmpty else { return nil }
        let address = settings.value(
            "KEEL_APPROVAL_SERVICE_URL", flag: apiURL, default: "http://127.0.0.1:7403")
        guard let url = URL(string: address), let scheme = url.scheme,
            ["http", "https"].contains(scheme.lowercased()),
            url.host != nil
        else {
            throw CLIFailure.user(
                "approval-service URL (KEEL_APPROVAL_SERVICE_URL or --api-url): expected http(s)://HOST[:PORT]"
            )
        }
        return OperatorAPIConnection(baseURL: url, token: token)
    }
}
