import Configuration
import KeelService

extension ConfigReader {
    /// A reader over `environment` alone, read exactly as a service reads its own environment.
    static func of(_ environment: [String: String]) -> ConfigReader {
        KeelConfiguration.reader(environment: environment)
    }
}
