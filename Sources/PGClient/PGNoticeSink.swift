import CLibPQ
import Logging

/// Routes server notices and warnings (e.g. `WARNING: there is no transaction in progress`) to the
/// logger instead of libpq's default of printing them to stderr.
final class PGNoticeSink: Sendable {
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func receive(_ result: OpaquePointer) {
        func field(_ code: Character) -> String {
            guard let ascii = code.asciiValue, let value = PQresultErrorField(result, Int32(ascii)) else {
                return ""
            }
            return String(cString: value)
        }
        logger.debug(
            "postgres notice",
            metadata: [
                "severity": "\(field("S"))", "sqlstate": "\(field("C"))", "message": "\(field("M"))",
            ])
    }
}

/// The C callback libpq calls with each notice; `argument` is the connection's unretained sink.
let pgNoticeReceiver: PQnoticeReceiver = { argument, result in
    guard let argument, let result else { return }
    Unmanaged<PGNoticeSink>.fromOpaque(argument).takeUnretainedValue().receive(result)
}
