/// A resource's bytes as an `AsyncSequence` of chunks, pulled one at a time: nothing is read before the
/// consumer asks for it, so a slow reader never makes the process buffer the whole content.
public struct ResourceChunks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    let makeReader: @Sendable () -> any ResourceChunkReader

    init(makeReader: @escaping @Sendable () -> any ResourceChunkReader) {
        self.makeReader = makeReader
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(reader: makeReader())
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var reader: any ResourceChunkReader

        public mutating func next() async throws -> [UInt8]? {
            try Task.checkCancellation()
            return try await reader.next()
        }
    }
}

/// One backend's way of reading the next chunk.
protocol ResourceChunkReader {
    mutating func next() async throws -> [UInt8]?
}
