import PGClient

extension PGPool {
    /// Runs a command's database work and closes the pool afterwards, whether it succeeded or not.
    func closing<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let result: T
        do {
            result = try await body()
        } catch {
            await close()
            throw error
        }
        await close()
        return result
    }
}
