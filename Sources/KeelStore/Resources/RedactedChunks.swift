public import KeelCore

/// `base` with every secret of `redactor` masked, across chunk boundaries (see `SecretRedactor`).
public struct RedactedChunks<Base: AsyncSequence>: AsyncSequence where Base.Element == [UInt8] {
    public typealias Element = [UInt8]

    let base: Base
    let redactor: SecretRedactor

    public init(base: Base, redactor: SecretRedactor) {
        self.base = base
        self.redactor = redactor
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), redactor: redactor)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        var redactor: SecretRedactor
        var finished = false

        public mutating func next() async throws -> [UInt8]? {
            while !finished {
                if let chunk = try await base.next() {
                    let output = redactor.redact(chunk)
                    if !output.isEmpty { return output }
                } else {
                    finished = true
                    let tail = redactor.finish()
                    return tail.isEmpty ? nil : tail
                }
            }
            return nil
        }
    }
}
