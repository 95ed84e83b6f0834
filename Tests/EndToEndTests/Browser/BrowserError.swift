import KeelCore

/// Why a headless-browser operation failed, with enough detail to diagnose a failing test.
enum BrowserError: Error, CustomStringConvertible {
    /// The browser could not be started (spawn failed, or it exited before answering).
    case launchFailed(String)
    /// The browser closed its end of the DevTools pipe; `log` is what it wrote to stderr.
    case browserExited(log: String)
    /// A DevTools command answered with an error.
    case protocolError(method: String, message: String)
    /// A bounded wait ran out (a broken mechanism, not a slow machine: the bounds are generous).
    case timedOut(String)
    /// A navigation failed (e.g. connection refused).
    case navigationFailed(url: String, reason: String)
    /// Page JavaScript threw.
    case scriptFailed(String)
    /// No element matches the selector.
    case noSuchElement(String)

    var description: String {
        switch self {
        case .launchFailed(let why): "could not start the browser: \(why)"
        case .browserExited(let log): "the browser exited; its log:\n\(log)"
        case .protocolError(let method, let message): "\(method) failed: \(message)"
        case .timedOut(let what): "timed out waiting for \(what)"
        case .navigationFailed(let url, let reason): "navigation to \(url) failed: \(reason)"
        case .scriptFailed(let message): "page script threw: \(message)"
        case .noSuchElement(let selector): "no element matches \(selector)"
        }
    }
}
