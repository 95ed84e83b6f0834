#if canImport(Glibc)
    import Glibc
#endif

/// Opens a file a step produced (its `KEEL_OUTPUT`, a declared `resource` output) for the executor to
/// read, without letting the step point the executor at anything else.
///
/// The step controls the directory it runs in: it can replace its output file, or a directory on the
/// way to it, with a symbolic link to `/etc/shadow` or the executor's key file, a FIFO that blocks the
/// open, or a hard link. So the path is walked one component at a time from `base` with `O_NOFOLLOW`
/// (no symlink anywhere below `base`, no `..`), opened non-blocking, and must be a regular file; when the
/// step ran as a user of its own, the file must also belong to that user (a file it owns it could read
/// anyway, so reading it for the step gives the step nothing).
enum ConfinedFile {
    /// An open descriptor (close-on-exec) of `path`: relative to `base`, or absolute inside it.
    static func open(_ path: String, under base: String, owner: UInt32?) throws(ConfinedFileError) -> Int32 {
        let components = try relativeComponents(of: path, under: base)
        guard let name = components.last else { throw .invalid(path, "names a directory, not a file") }
        var directory = Glibc.open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw .cannotOpen(path, errno: errno) }
        for component in components.dropLast() {
            let next = openat(directory, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let failure = errno
            close(directory)
            guard next >= 0 else {
                throw failure == ENOTDIR || failure == ELOOP
                    ? .invalid(path, "\(component) is a symbolic link or not a directory")
                    : .cannotOpen(path, errno: failure)
            }
            directory = next
        }
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        let failure = errno
        close(directory)
        guard fd >= 0 else {
            throw failure == ELOOP ? .invalid(path, "is a symbolic link") : .cannotOpen(path, errno: failure)
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let failure = errno
            close(fd)
            throw .cannotOpen(path, errno: failure)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw .invalid(path, "is not a regular file")
        }
        if let owner, status.st_uid != owner {
            close(fd)
            throw .invalid(path, "does not belong to the step's user")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// The components of `path` below `base`: an absolute path must start with `base/`; `..` is refused,
    /// `.` and empty components are dropped.
    static func relativeComponents(of path: String, under base: String) throws(ConfinedFileError) -> [String]
    {
        var relative = Substring(path)
        if path.hasPrefix("/") {
            let prefix = base.hasSuffix("/") ? base : base + "/"
            guard path.hasPrefix(prefix) else {
                throw .invalid(path, "is outside the step's working directory \(base)")
            }
            relative = relative.dropFirst(prefix.count)
        }
        let components = relative.split(separator: "/").map(String.init).filter { $0 != "." }
        guard !components.contains("..") else { throw .invalid(path, "goes up with '..'") }
        return components
    }
}

/// Why a step's file was not read: what the step did wrong, or the error of the open.
enum ConfinedFileError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalid(String, String)
    case cannotOpen(String, errno: Int32)

    var description: String {
        switch self {
        case .invalid(let path, let reason): "\(path) \(reason)"
        case .cannotOpen(let path, let errno): "cannot open \(path): \(String(cString: strerror(errno)))"
        }
    }
}
