import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension TestHTTP {
    /// Sends `request` — the bytes of a whole HTTP/1.1 request, sent as they are, so a test can send what
    /// URLSession refuses to (invalid UTF-8, a NUL in a header) — to 127.0.0.1:`port`, and reads the answer
    /// until the server closes the connection (send `Connection: close`); a server that keeps it open
    /// for 60 seconds fails the call with `URLError(.timedOut)`. The blocking socket calls run
    /// on a thread of their own, off Swift's cooperative pool.
    public static func sendRaw(port: Int, _ request: [UInt8]) async throws -> Answer {
        let bytes = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<[UInt8], any Error>) in
            Thread.detachNewThread {
                continuation.resume(with: Result { try exchange(port: port, request) })
            }
        }
        return try parse(bytes)
    }

    private static func exchange(port: Int, _ request: [UInt8]) throws -> [UInt8] {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        defer { close(socket) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // A server that answers before reading the whole body may stop reading it.
        var sendTimeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw POSIXError(.init(rawValue: errno) ?? .ECONNREFUSED) }
        var sent = 0
        while sent < request.count {
            let written = request[sent...].withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            // The server may answer and close before reading everything (a body over its limit).
            guard written > 0 else { break }
            sent += written
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            // A server that leaves the connection open is not an answer: the caller asked it to close.
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK { throw URLError(.timedOut) }
            guard count > 0 else { break }
            answer += buffer[..<count]
        }
        return answer
    }

    private static func parse(_ bytes: [UInt8]) throws -> Answer {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
            throw URLError(.badServerResponse)
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = head.first?.split(separator: " ") ?? []
        guard parts.count >= 2, let status = Int(parts[1]) else { throw URLError(.badServerResponse) }
        var fields: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                .trimmingCharacters(in: .whitespaces)
        }
        var body = Array(bytes[(end + separator.count)...])
        if let length = fields["content-length"].flatMap(Int.init), length < body.count {
            body = Array(body[..<length])
        }
        return Answer(status: status, headers: fields, body: String(decoding: body, as: UTF8.self))
    }
}
