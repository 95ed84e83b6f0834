import Foundation
import Testing

@testable import keel

/// How the CLI reports the approval-service's RFC 9457 problems: title and detail, and the exit code.
@Suite struct APIProblemTests {
    func body(_ json: String) -> Data { Data(json.utf8) }

    @Test func refusalsAreUserFailuresWithTitleAndDetail() {
        let failure = APIProblem.failure(
            status: 409,
            body: body(
                #"{"type":"https://keel.dev/problems/closed","title":"Approval closed","status":409,"detail":"it was approved at 2026-11-27T09:00:00Z"}"#
            ))
        guard case .user(let message) = failure else {
            Issue.record("expected a user failure, got \(failure)")
            return
        }
        #expect(message == "Approval closed: it was approved at 2026-11-27T09:00:00Z (HTTP 409)")
        #expect(failure.exitCode.rawValue == 1)
    }

    @Test func forbiddenAndUnprocessableAreRefusals() {
        for status in [400, 403, 404, 422] {
            let failure = APIProblem.failure(
                status: status, body: body(#"{"title":"Refused","status":\#(status),"detail":"no"}"#))
            #expect(failure.exitCode.rawValue == 1, "HTTP \(status)")
            #expect(failure.message == "Refused: no (HTTP \(status))")
        }
    }

    @Test func unauthorisedSaysWhereTheTokenComesFrom() {
        let failure = APIProblem.failure(
            status: 401,
            body: body(#"{"title":"Unauthorized","status":401,"detail":"a valid bearer token is required"}"#))
        #expect(failure.exitCode.rawValue == 1)
        #expect(failure.message.hasPrefix("Unauthorized: a valid bearer token is required (HTTP 401)"))
        #expect(failure.message.contains("KEEL_API_TOKEN"))
    }

    @Test func serverErrorsAreInfrastructureFailures() {
        let failure = APIProblem.failure(
            status: 503,
            body: body(#"{"title":"Service Unavailable","status":503,"detail":"database unreachable"}"#))
        guard case .infrastructure(let message) = failure else {
            Issue.record("expected an infrastructure failure, got \(failure)")
            return
        }
        #expect(message == "Service Unavailable: database unreachable (HTTP 503)")
        #expect(failure.exitCode.rawValue == 2)
    }

    @Test func aBodyThatIsNoProblemStillGivesTheStatus() {
        let html = APIProblem.failure(status: 502, body: body("<html>Bad Gateway</html>"))
        #expect(html.exitCode.rawValue == 2)
        #expect(html.message.hasPrefix("HTTP 502"))
        #expect(!html.message.contains("<html>"))

        let empty = APIProblem.failure(status: 404, body: Data())
        #expect(empty.exitCode.rawValue == 1)
        #expect(empty.message.hasPrefix("HTTP 404"))
    }

    @Test func aProblemWithOnlyATitleOrOnlyADetail() {
        #expect(
            APIProblem.failure(status: 403, body: body(#"{"title":"Forbidden"}"#)).message
                == "Forbidden (HTTP 403)")
        #expect(
            APIProblem.failure(status: 422, body: body(#"{"detail":"note: required"}"#)).message
                == "note: required (HTTP 422)")
    }

    @Test func approvalIdsTravelAsOnePathSegment() {
        #expect(
            ApprovalClient.pathSegment("0193a0b1-7c2d-7e3f-8a9b-0c1d2e3f4a5b:review:1:approval")
                == "0193a0b1-7c2d-7e3f-8a9b-0c1d2e3f4a5b:review:1:approval")
        #expect(ApprovalClient.pathSegment("a/b?c#d e") == "a%2Fb%3Fc%23d%20e")
    }

    @Test func messagesNameTheServiceWithoutCredentials() throws {
        let url = try #require(URL(string: "http://admin:hunter2@127.0.0.1:7403/"))
        let client = ApprovalClient(baseURL: url, token: "keel_secret")
        #expect(client.displayURL == "http://127.0.0.1:7403/")
    }
}
