public import AMQPClient

/// The publisher's headers a dead-letter copy of a refused message carries.
///
/// A message's properties travel in one frame (128 KiB by default) and a dead letter adds Keel's
/// reason to them, so a publisher whose headers nearly fill the frame would make the copy
/// unpublishable, and retried for ever. Headers up to `maximumCopiedBytes` are kept as sent; larger
/// ones are replaced by `keel-headers-dropped` holding their size.
public enum DeadLetterHeaders {
    public static let maximumCopiedBytes = 16 << 10

    /// `headers` when they are small enough to copy; otherwise only their size.
    public static func carried(_ headers: AMQPTable) -> AMQPTable {
        let size = AMQPProperties.encodedSize(of: headers)
        guard size > maximumCopiedBytes else { return headers }
        return ["keel-headers-dropped": .string("\(size) bytes")]
    }
}
