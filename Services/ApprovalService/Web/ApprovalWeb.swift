import Foundation
import Hummingbird
import KeelCore
import KeelStore
import Logging

/// The approval-service's pages for people, on the same port as its API: sign in with an API token,
/// see pending approvals, open one, and approve, reject or request changes with a note.
///
/// Sessions are the token in an HttpOnly, SameSite=Strict cookie; every form carries a CSRF token derived
/// from it (`CSRFToken`) and a POST from another origin is refused (`OriginCheck`). Pages are built
/// from `HTML` fragments, which escape everything interpolated into them.
struct ApprovalWeb: Sendable {
    let approvals: ApprovalStore
    let tokens: APITokenStore
    let resources: ResourceStore
    /// Where the run's timeline so far comes from (as `keel run show` computes it).
    let runs: RunStore
    /// What the console's pages read besides runs and resources (flows, refused triggers).
    let console: ConsoleStores
    /// The page is reached over https (a TLS-terminating proxy in front): cookies get `Secure`, and a
    /// POST's `Origin` must be `https://<Host>`.
    let https: Bool
    let logger: Logger
    /// Decisions made here count in the same series as the API's.
    var recorded: RecordedDecisions { RecordedDecisions(runs: runs) }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in
            try await page(request) {
                let signedIn = try await signedInSession(request) != nil
                return Response(status: .seeOther, headers: [.location: signedIn ? "/approvals" : "/sign-in"])
            }
        }
        router.get("/sign-in") { request, _ in
            try await page(request) { SignInPage.response() }
        }
        router.post("/sign-in") { request, context in
            try await page(request) { try await signIn(request, context: context) }
        }
        router.post("/sign-out") { request, context in
            try await page(request) { try await signOut(request, context: context) }
        }
        router.get("/approvals") { request, _ in
            try await page(request) { try await list(request) }
        }
        router.get("/approvals/:id") { request, context in
            try await page(request) { try await show(request, context: context) }
        }
        router.post("/approvals/:id/decision") { request, context in
            try await page(request) { try await decide(request, context: context) }
        }
        addConsoleRoutes(to: router)
    }

    /// Runs a page handler; an unexpected error becomes an HTML page naming an incident id (the error
    /// itself goes to the log only).
    func page(_ request: Request, _ handler: () async throws -> Response) async throws -> Response {
        do {
            return try await handler()
        } catch {
            let incident = String(UInt64.random(in: 0...UInt64.max), radix: 16)
            logger.error(
                "web page failed",
                metadata: [
                    "path": .string(request.uri.path), "incident": .string(incident),
                    "error": .string(String(describing: error)),
                ])
            return PageLayout.response(
                status: .internalServerError, title: "Something went wrong", viewer: nil,
                body: PageLayout.message(
                    "The page could not be shown; the error was logged as incident \(incident).",
                    kind: "error"))
        }
    }
}
