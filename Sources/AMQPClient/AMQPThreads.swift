public import ClientSupport

/// The librabbitmq threads of the process still running: one per connection (`ConnectionLoop`), so a
/// service can wait for them before it exits (`LibraryThreads`).
public enum AMQPThreads {
    public static let all = LibraryThreads()
}
