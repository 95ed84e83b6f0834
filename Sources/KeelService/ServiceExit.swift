import AMQPClient
import Foundation
import PGClient

#if canImport(Glibc)
    import Glibc
#endif

/// How a service process ends once its services have stopped: it waits for the threads of the C
/// libraries (libpq, librabbitmq) to end, flushes its output, and leaves with `_exit`.
///
/// `exit()` runs the process's exit-time clean-up — among it OpenSSL's, which frees the library's global
/// state — while other threads may still be running. A libpq or librabbitmq thread still closing its
/// connection (`PQfinish`, `amqp_destroy_connection`) then uses freed OpenSSL state: the intermittent
/// SIGSEGV in libcrypto.so.3 when a service stopped. Waiting for those threads removes the racers we
/// own; `_exit` skips the clean-up altogether, so a thread we do not own (a Dispatch worker finishing a
/// dropped connection's close, an event loop) cannot race it either. Nothing Keel needs runs at exit:
/// the log is written unbuffered, and standard output is flushed here.
enum ServiceExit {
    /// Longest wait for the library threads: they end within a poll interval once their connections
    /// are closed; a thread still running after this is reported, and the process leaves anyway.
    static let threadWait: Duration = .seconds(5)

    static func exit(_ status: Int32) async -> Never {
        let pgEnded = await PGThreads.all.waitUntilAllEnded(timeout: threadWait)
        let amqpEnded = await AMQPThreads.all.waitUntilAllEnded(timeout: threadWait)
        if !pgEnded || !amqpEnded {
            KeelLogHandler.standardError(
                "exiting with library threads still running: \(PGThreads.all.count) libpq, \(AMQPThreads.all.count) librabbitmq"
            )
        }
        fflush(nil)
        _exit(status)
    }
}
