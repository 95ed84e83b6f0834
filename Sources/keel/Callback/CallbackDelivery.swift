import Foundation
import KeelCore

/// The two steps of answering a wait: upload each resource, then send the callback naming them; each
/// request retried as `CallbackRetrier` says; a final refusal fails as `CallbackRefusal` says.
struct CallbackDelivery: Sendable {
    let client: CallbackClient
    let retrier: CallbackRetrier

    /// Uploads one file and returns its reference (`res:sha256:…`).
    func upload(_ file: CallbackResourceFile, sha256: String) async throws -> String {
        let (status, body) = try await retrier.send("upload of \(file.name)") {
            await client.upload(file, sha256: sha256)
        }
        guard (200...299).contains(status) else {
            throw CallbackRefusal.failure(status: status, body: body, gateway: client.endpoint.displayURL)
        }
        struct Uploaded: Decodable { var resource: String }
        guard let uploaded = try? JSONDecoder().decode(Uploaded.self, from: body),
            let reference = try? ResourceReference(parsing: uploaded.resource)
        else {
            throw CLIFailure.infrastructure(
                "the callback-gateway answered the upload of \(file.name) with HTTP \(status) and no resource "
                    + "reference")
        }
        return reference.description
    }

    /// Sends the callback; returns the gateway's body and the line that says what happened.
    func callback(
        status: String, output: JSONObject, resources: [(name: String, resource: String)], usage: Usage? = nil
    ) async throws -> (body: Data, summary: String) {
        var document = JSONObject()
        document["status"] = .string(status)
        document["output"] = .object(output)
        if let usage { document["usage"] = usage.jsonValue }
        if !resources.isEmpty {
            document["resources"] = .array(
                resources.map {
                    JSONValue.object(["name": .string($0.name), "resource": .string($0.resource)])
                })
        }
        let request = Data(JSONValue.object(document).jsonBytes(.compact))
        let (answerStatus, body) = try await retrier.send("callback") { await client.postCallback(request) }
        guard (200...299).contains(answerStatus) else {
            throw CallbackRefusal.failure(
                status: answerStatus, body: body, gateway: client.endpoint.displayURL)
        }
        guard let answer = CallbackAnswer.decode(body) else {
            throw CLIFailure.infrastructure(
                "the callback-gateway answered HTTP \(answerStatus) with a body this keel cannot read; "
                    + "sending the callback again is safe")
        }
        return (body, answer.summary)
    }
}
