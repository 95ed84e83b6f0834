public import Foundation

/// The operators' API document as written (`openapi.yaml` beside this file), which the approval-service
/// serves at `/openapi.yaml`; the types, server protocol and client in this module are generated from it
/// at build time (`openapi-generator-config.yaml`).
public enum OpenAPIDocument {
    /// The YAML, read from the module's resources.
    public static func yaml() throws -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }
}
