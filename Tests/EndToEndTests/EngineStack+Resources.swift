import KeelCore
import KeelStore
import Testing

extension EngineStack {
    /// The content of the resource a `{"$resource": ...}` output names, as text (small test payloads).
    func text(of reference: JSONValue?) async throws -> String {
        let text = try #require(
            reference?.objectValue?["$resource"]?.stringValue,
            "not a resource: \(String(describing: reference))")
        let (_, chunks) = try await ResourceStore(pool: pool, configuration: ResourceConfiguration())
            .open(try ResourceReference(parsing: text))
        var bytes: [UInt8] = []
        for try await chunk in chunks { bytes += chunk }
        return String(decoding: bytes, as: UTF8.self)
    }
}
