import Foundation
public import KeelCore
public import PGClient

/// A run id is a `uuid` column: bound and decoded as one, so queries take and give `RunID`s directly.
extension RunID: PGEncodable, PGDecodable, PGArrayElement {
    public static var pgType: PGType { .uuid }
    public static var pgArrayType: PGType { .uuidArray }

    public func pgEncode(into buffer: inout [UInt8]) {
        uuid.pgEncode(into: &buffer)
    }

    public init(pgValue: PGValue) throws {
        self.init(try UUID(pgValue: pgValue))
    }
}
