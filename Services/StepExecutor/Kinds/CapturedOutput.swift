import KeelCore
import Synchronization

/// One output stream of a process (stdout or stderr) on its way to a resource: secrets masked as the
/// bytes arrive, handed to the store through a bounded channel, and the last bytes kept for the
/// failure message.
final class CapturedOutput: Sendable {
    /// Bytes of the stream's end kept for a failure message.
    static let tailCapacity = 4096

    let channel: OutputChannel
    private let state: Mutex<(redactor: SecretRedactor, tail: [UInt8])>
    /// Sees every chunk as it is stored, secrets masked (an agent step reads its transcript here).
    private let observer: (@Sendable ([UInt8]) -> Void)?

    init(redactor: SecretRedactor, capacity: Int = 1 << 20, observer: (@Sendable ([UInt8]) -> Void)? = nil) {
        channel = OutputChannel(capacity: capacity)
        state = Mutex((redactor: redactor, tail: []))
        self.observer = observer
    }

    /// Takes the next chunk read from the pipe (on the reading thread; may block while the store catches up).
    func append(_ chunk: [UInt8]) {
        let redacted = state.withLock { state in
            let redacted = state.redactor.redact(chunk)
            Self.keep(redacted, in: &state.tail)
            return redacted
        }
        observer?(redacted)
        channel.send(redacted)
    }

    /// The stream ended: releases what the redactor held back and ends the channel.
    func finish() {
        let rest = state.withLock { state in
            let rest = state.redactor.finish()
            Self.keep(rest, in: &state.tail)
            return rest
        }
        observer?(rest)
        channel.send(rest)
        channel.finish()
    }

    /// The last lines of the (redacted) stream, at most `maximumBytes` bytes of them, as text.
    func lastLines(_ count: Int, maximumBytes: Int = 2048) -> String {
        let tail = state.withLock { $0.tail }
        var text = String(decoding: tail, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(count)
        var joined = lines.joined(separator: "\n")
        while joined.utf8.count > maximumBytes, lines.count > 1 {
            lines = lines.dropFirst()
            joined = lines.joined(separator: "\n")
        }
        if joined.utf8.count > maximumBytes {
            joined = "…" + String(decoding: joined.utf8.suffix(maximumBytes), as: UTF8.self)
        }
        return joined
    }

    private static func keep(_ bytes: [UInt8], in tail: inout [UInt8]) {
        tail.append(contentsOf: bytes)
        if tail.count > tailCapacity { tail.removeFirst(tail.count - tailCapacity) }
    }
}
