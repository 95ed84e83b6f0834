/// The version of this Keel build, reported by `/metrics` (`keel_service_info`) and `keel version`.
public enum KeelVersion {
    public static let current = "0.1.0"
}
