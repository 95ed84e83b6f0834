import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// How one HTTP exchange ended.
enum HTTPExchangeResult: Sendable {
    case response(status: Int, headers: HTTPHeaders, body: [UInt8])
    case failed(any Error)
    case timedOut
    case cancelled
    /// The response body passed `maximumBodySize`; the transfer was stopped.
    case bodyTooLarge
}

/// One request on AsyncHTTPClient with a deadline for the whole exchange, the body included (the
/// client's own deadline ends when the response head arrives), a bound on the body kept in memory, and
/// cancellation that stops the transfer at once.
///
/// The exchange and a timer race in a task group: whichever ends first ends the other, and the caller's
/// cancellation ends both.
enum HTTPExchange {
    static func perform(
        _ request: HTTPClientRequest, on client: HTTPClient, timeout: Duration, maximumBodySize: Int
    ) async -> HTTPExchangeResult {
        let ended = await withTaskGroup(of: HTTPExchangeResult?.self) { group in
            group.addTask {
                do {
                    let response = try await client.execute(request, timeout: TimeAmount(timeout))
                    let body = try await response.body.collect(upTo: maximumBodySize)
                    return .response(
                        status: Int(response.status.code), headers: response.headers,
                        body: Array(buffer: body))
                } catch is NIOTooManyBytesError {
                    return .bodyTooLarge
                } catch let error as HTTPClientError where error == .deadlineExceeded {
                    return .timedOut
                } catch {
                    return Task.isCancelled ? nil : .failed(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : .timedOut
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if Task.isCancelled { return .cancelled }
        return ended ?? .cancelled
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
