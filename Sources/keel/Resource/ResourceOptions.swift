import ArgumentParser
import KeelCore
import KeelStore
import PGClient

/// `--backend` and `--directory` (else KEEL_RESOURCE_BACKEND, KEEL_RESOURCE_DIRECTORY, then .keel/env),
/// and the database options, for every `keel resource` command.
struct ResourceOptions: ParsableArguments {
    @Option(
        help: "Where new content goes: postgres or directory (default: KEEL_RESOURCE_BACKEND, else postgres)."
    )
    var backend: String?

    @Option(help: "The directory backend's root (default: KEEL_RESOURCE_DIRECTORY).")
    var directory: String?

    @OptionGroup var database: DatabaseOptions

    var output: CLIOutput { database.output }

    func configuration() throws -> ResourceConfiguration {
        let settings = CLISettings()
        let flags = ["KEEL_RESOURCE_BACKEND": backend, "KEEL_RESOURCE_DIRECTORY": directory]
        return try ResourceConfiguration { name in
            let value = settings.value(name, flag: flags[name] ?? nil, default: "")
            return value.isEmpty ? nil : value
        }
    }

    /// Runs `body` with a store on a small pool; failures become the documented exit codes (an unknown
    /// reference or refused content 1, the database or the file system 2).
    func withStore<T: Sendable>(_ body: (ResourceStore) async throws -> T) async throws -> T {
        let configuration: ResourceConfiguration
        do {
            configuration = try self.configuration()
        } catch {
            throw output.fail(.user(String(describing: error)))
        }
        return try await database.withPool { pool in
            do {
                return try await body(try ResourceStore(pool: pool, configuration: configuration))
            } catch let error as ResourceStoreError {
                throw error.isUserError
                    ? CLIFailure.user(error.description) : CLIFailure.infrastructure(error.description)
            }
        }
    }

    /// Parses a reference or fails with exit code 1.
    func reference(_ text: String) throws -> ResourceReference {
        do {
            return try ResourceReference(parsing: text)
        } catch {
            throw output.fail(.user(error.description))
        }
    }
}
