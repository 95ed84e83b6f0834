import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// How one HTTP exchange ended.
enum HTTPExchangeResult: Sendable {
    case response(HTTPURLResponse, body: [UInt8])
    case failed(any Error)
    case timedOut
    case cancelled
    /// The response body passed `maximumBodySize`; the transfer was stopped.
    case bodyTooLarge
}

/// One request on a session of its own, with a deadline for the whole exchange, a bound on the body
/// kept in memory, and cancellation that stops the transfer at once.
///
/// The session delegate collects the body; whichever comes first (completion, the deadline, the
/// calling task's cancellation, the body limit) ends the exchange, and the others find it ended.
final class HTTPExchange: NSObject, URLSessionDataDelegate, Sendable {
    private struct State {
        var continuation: CheckedContinuation<HTTPExchangeResult, Never>?
        var outcome: HTTPExchangeResult?
        var response: HTTPURLResponse?
        var body: [UInt8] = []
    }

    private let state = Mutex(State())
    private let maximumBodySize: Int

    private init(maximumBodySize: Int) {
        self.maximumBodySize = maximumBodySize
    }

    /// Performs `request`; returns (never throws) whatever ended it.
    static func perform(_ request: URLRequest, timeout: Duration, maximumBodySize: Int) async
        -> HTTPExchangeResult
    {
        let exchange = HTTPExchange(maximumBodySize: maximumBodySize)
        let configuration = URLSessionConfiguration.ephemeral
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        configuration.timeoutIntervalForRequest = seconds
        configuration.timeoutIntervalForResource = seconds
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        let session = URLSession(configuration: configuration, delegate: exchange, delegateQueue: nil)
        let task = session.dataTask(with: request)
        let deadline = DispatchWorkItem {
            exchange.end(.timedOut)
            task.cancel()
        }
        let nanoseconds =
            Int(timeout.components.seconds) * 1_000_000_000
            + Int(timeout.components.attoseconds / 1_000_000_000)
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if let outcome = exchange.wait(continuation) {
                    continuation.resume(returning: outcome)
                    return
                }
                DispatchQueue.global().asyncAfter(
                    deadline: .now() + .nanoseconds(nanoseconds), execute: deadline)
                task.resume()
            }
        } onCancel: {
            exchange.end(.cancelled)
            task.cancel()
        }
        deadline.cancel()
        session.invalidateAndCancel()
        return result
    }

    /// Registers the waiting continuation; returns the outcome instead when the exchange already ended
    /// (cancelled before it started).
    private func wait(_ continuation: CheckedContinuation<HTTPExchangeResult, Never>) -> HTTPExchangeResult? {
        state.withLock { state in
            if let outcome = state.outcome { return outcome }
            state.continuation = continuation
            return nil
        }
    }

    /// Ends the exchange with `outcome` unless it has already ended.
    private func end(_ outcome: HTTPExchangeResult) {
        let continuation = state.withLock { state -> CheckedContinuation<HTTPExchangeResult, Never>? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(returning: outcome)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        state.withLock { $0.response = response as? HTTPURLResponse }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let tooLarge = state.withLock { state in
            state.body.append(contentsOf: data)
            if state.body.count > maximumBodySize {
                state.body = []
                return true
            }
            return false
        }
        if tooLarge {
            end(.bodyTooLarge)
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        if let error {
            if let urlError = error as? URLError, urlError.code == .timedOut {
                end(.timedOut)
            } else {
                end(.failed(error))
            }
            return
        }
        let (response, body) = state.withLock { state in (state.response, state.body) }
        if let response {
            end(.response(response, body: body))
        } else {
            end(.failed(URLError(.badServerResponse)))
        }
    }
}
