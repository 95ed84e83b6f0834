import ArgumentParser
import Foundation
import KeelCore
import KeelStore

/// Where a worker's callback goes (`KEEL_CALLBACK_URL`, the gateway's full `.../v1/callbacks` URL) and the
/// token that says which wait it answers (`KEEL_CALLBACK_TOKEN`), as the step-executor hands them to the
/// job. The token is only ever sent in the Authorization header: never printed, never part of an error,
/// and never taken from the command line, where other users could read it in the process list.
struct CallbackEndpoint: Sendable {
    static let urlVariable = "KEEL_CALLBACK_URL"
    static let tokenVariable = "KEEL_CALLBACK_TOKEN"

    /// The full callbacks URL, e.g. `https://keel.example.com/v1/callbacks`.
    let callbacksURL: URL
    let token: String
    /// The job's `TRACEPARENT` (the attempt's span of the run's trace), sent back as `traceparent` so the
    /// callback joins the run's trace; nil when the job has none or it is not a valid traceparent.
    var traceparent: String? = nil

    /// The endpoint from `--url` (else `KEEL_CALLBACK_URL`) and `--token-file` (else
    /// `KEEL_CALLBACK_TOKEN`); a missing or malformed setting is a usage error naming the variable.
    static func resolve(url flag: String?, tokenFile: String?, environment: [String: String]) async throws
        -> CallbackEndpoint
    {
        let address = flag ?? environment[urlVariable] ?? ""
        guard !address.isEmpty else {
            throw ValidationError(
                "\(urlVariable) is not set: the callbacks URL the job was started with (or --url)")
        }
        guard let url = URL(string: address), let scheme = url.scheme?.lowercased(),
            ["http", "https"].contains(scheme), url.host != nil
        else {
            let source = flag == nil ? urlVariable : "--url"
            throw ValidationError("\(source): expected http(s)://HOST[:PORT]/.../v1/callbacks")
        }
        let token: String
        if let tokenFile {
            token = try await readToken(fromFile: tokenFile)
        } else {
            token = environment[tokenVariable]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard !token.isEmpty else {
                throw ValidationError(
                    "\(tokenVariable) is not set: the callback token the job was started with (or --token-file)"
                )
            }
        }
        guard !token.contains(where: { $0.isNewline || $0.isWhitespace }) else {
            let source = tokenFile == nil ? tokenVariable : "--token-file"
            throw ValidationError("\(source): a callback token is one word without spaces")
        }
        return CallbackEndpoint(
            callbacksURL: url, token: token,
            traceparent: environment["TRACEPARENT"].flatMap(TraceContext.init(traceparent:))?.traceparent)
    }

    /// The token file's first and only word; its content never appears in an error.
    private static func readToken(fromFile path: String) async throws -> String {
        let data = try? await BlockingIO.run { try Data(contentsOf: URL(fileURLWithPath: path)) }
        guard let data else { throw ValidationError("--token-file \(path): cannot read the file") }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw ValidationError("--token-file \(path): the file is empty") }
        return token
    }

    /// `<callbacks URL>/resources?name=NAME`, where resources are uploaded.
    func resourcesURL(name: String) -> URL? {
        guard var components = URLComponents(url: callbacksURL, resolvingAgainstBaseURL: false) else {
            return nil
        }
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        components.percentEncodedPath = path + "/resources"
        components.queryItems = [URLQueryItem(name: "name", value: name)]
        return components.url
    }

    /// The callbacks URL for messages, without any user or password it may carry.
    var displayURL: String {
        guard var components = URLComponents(url: callbacksURL, resolvingAgainstBaseURL: false) else {
            return "the callbacks URL"
        }
        components.user = nil
        components.password = nil
        components.query = nil
        return components.string ?? "the callbacks URL"
    }
}
