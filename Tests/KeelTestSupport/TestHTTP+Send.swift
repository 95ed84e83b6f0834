import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension TestHTTP {
    /// An answer: status, headers (names lower-cased) and body.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String

        /// The body parsed as a JSON object (nil when it is not one).
        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        }
    }

    /// Sends one request and returns the answer; throws when nothing answers.
    public static func send(
        _ method: String, _ url: String, headers: [String: String] = [:], body: String? = nil
    ) async throws -> Answer {
        try await send(method, url, headers: headers, bytes: body.map { Array($0.utf8) })
    }

    /// `send` with a body of any bytes (invalid UTF-8 included).
    public static func send(
        _ method: String, _ url: String, headers: [String: String] = [:], bytes body: [UInt8]?
    ) async throws -> Answer {
        guard let target = URL(string: url) else { throw URLError(.badURL) }
        var request = URLRequest(url: target)
        request.httpMethod = method
        request.timeoutInterval = 60
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = Data(body)
            if headers["Content-Type"] == nil {
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return Answer(status: http.statusCode, headers: fields, body: String(decoding: data, as: UTF8.self))
    }
}
