import ArgumentParser
import Foundation
import KeelStore
import PGClient

/// How a command failed, which decides the process's exit code (documented in `keel --help`).
enum CLIFailure: Error {
    /// Bad input or a refused operation: exit 1.
    case user(String)
    /// The database, broker or a service could not be reached or failed: exit 2.
    case infrastructure(String)

    var exitCode: ExitCode {
        switch self {
        case .user: ExitCode(1)
        case .infrastructure: ExitCode(2)
        }
    }

    var message: String {
        switch self {
        case .user(let message), .infrastructure(let message): message
        }
    }

    /// Classifies an error thrown by a client library.
    static func from(_ error: any Error) -> CLIFailure {
        if let failure = error as? CLIFailure { return failure }
        if error is FlowStoreError || error is RunStoreError || error is MigrationError {
            return .user(String(describing: error))
        }
        if let error = error as? PGError {
            return error.code == .invalidConfiguration
                ? .user(String(describing: error)) : .infrastructure(String(describing: error))
        }
        return .user(String(describing: error))
    }
}

/// Output for people or, with `--json`, one JSON document for programs.
struct CLIOutput {
    let json: Bool

    /// Prints the result and never fails: encoding our own Codable types cannot throw in practice, and
    /// if it did the fallback is still valid JSON.
    func emit(_ value: some Encodable, text: () -> String) {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(text())
        }
    }

    /// Reports a failure on standard error (as `{"error": ...}` on standard output with --json) and
    /// returns the exit code to throw.
    func fail(_ failure: CLIFailure) -> ExitCode {
        if json {
            struct ErrorBody: Encodable {
                let error: String
                let kind: String
            }
            let kind: String
            switch failure {
            case .user: kind = "user"
            case .infrastructure: kind = "infrastructure"
            }
            emit(ErrorBody(error: failure.message, kind: kind)) { "" }
        } else {
            FileHandle.standardError.write(Data(("keel: " + failure.message + "\n").utf8))
        }
        return failure.exitCode
    }
}

extension CLIOutput {
    /// Runs `body`, turning any failure into the documented exit code with a message.
    func failing<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(CLIFailure.from(error))
        }
    }

    /// The same for asynchronous work.
    func failing<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(CLIFailure.from(error))
        }
    }
}
