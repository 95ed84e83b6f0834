import Synchronization

/// Splits a transcript into lines as its chunks arrive from the process and hands each line to the
/// adapter's reader. A line longer than `maximumLineLength` (a tool's huge event) is skipped, not buffered.
final class TranscriptLines: Sendable {
    static let maximumLineLength = 4 << 20

    private let state: Mutex<(reader: any AgentTranscriptReader, pending: [UInt8], skipping: Bool)>

    init(reader: any AgentTranscriptReader) {
        state = Mutex((reader: reader, pending: [], skipping: false))
    }

    /// The next chunk of the transcript, secrets already masked.
    func append(_ chunk: [UInt8]) {
        state.withLock { state in
            var start = chunk.startIndex
            while let newline = chunk[start...].firstIndex(of: 0x0A) {
                if !state.skipping {
                    state.pending.append(contentsOf: chunk[start..<newline])
                    state.reader.read(line: Substring(decoding: state.pending, as: UTF8.self))
                }
                state.pending.removeAll(keepingCapacity: true)
                state.skipping = false
                start = newline + 1
            }
            guard !state.skipping else { return }
            state.pending.append(contentsOf: chunk[start...])
            if state.pending.count > Self.maximumLineLength {
                state.pending.removeAll()
                state.skipping = true
            }
        }
    }

    /// The transcript ended: reads its last line (one without a line break) and returns the report.
    func finish() -> AgentReport {
        state.withLock { state in
            if !state.skipping, !state.pending.isEmpty {
                state.reader.read(line: Substring(decoding: state.pending, as: UTF8.self))
            }
            state.pending.removeAll()
            return state.reader.report
        }
    }
}
