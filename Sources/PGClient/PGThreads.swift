public import ClientSupport

/// The libpq threads of the process still running: connection threads (`PGConnectionThread`) and listen
/// threads (`PGListener`), so a service can wait for them before it exits (`LibraryThreads`).
public enum PGThreads {
    public static let all = LibraryThreads()
}
