public import Foundation

extension UUID: PGEncodable, PGDecodable, PGArrayElement {
    public static var pgType: PGType { .uuid }
    public static var pgArrayType: PGType { .uuidArray }

    public func pgEncode(into buffer: inout [UInt8]) {
        withUnsafeBytes(of: uuid) { buffer.append(contentsOf: $0) }
    }

    public init(pgValue: PGValue) throws {
        let bytes = try pgValue.requireBytes(for: Self.self)
        guard pgValue.type == .uuid, bytes.count == 16 else { throw pgValue.typeMismatch(Self.self) }
        var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes) }
        self.init(uuid: raw)
    }
}

/// `Date` is `timestamptz`: microseconds since 2000-01-01 UTC on the wire, so sub-microsecond
/// precision is rounded away.
extension Date: PGEncodable, PGDecodable, PGArrayElement {
    public static var pgType: PGType { .timestamptz }
    public static var pgArrayType: PGType { .timestamptzArray }

    /// Seconds from 2000-01-01 00:00:00 UTC (PostgreSQL's epoch) to 2001-01-01 (Foundation's).
    static let postgresEpochOffset: TimeInterval = 366 * 86_400

    public func pgEncode(into buffer: inout [UInt8]) {
        let seconds = timeIntervalSinceReferenceDate + Self.postgresEpochOffset
        let micros = (seconds * 1_000_000).rounded()
        let clamped = Int64(exactly: micros) ?? (micros > 0 ? Int64.max : Int64.min)
        buffer.appendInteger(clamped)
    }

    /// Reads `timestamptz` and `timestamp` (the latter taken as UTC); infinity maps to the distant dates.
    public init(pgValue: PGValue) throws {
        let bytes = try pgValue.requireBytes(for: Self.self)
        guard pgValue.type == .timestamptz || pgValue.type == .timestamp else {
            throw pgValue.typeMismatch(Self.self)
        }
        let micros = try bytes.readInteger(Int64.self)
        switch micros {
        case .max: self = .distantFuture
        case .min: self = .distantPast
        default:
            let whole = micros / 1_000_000
            let fraction = micros % 1_000_000
            self.init(
                timeIntervalSinceReferenceDate: Double(whole) - Self.postgresEpochOffset
                    + Double(fraction) / 1_000_000)
        }
    }
}

extension Data: PGEncodable, PGDecodable, PGArrayElement {
    public static var pgType: PGType { .bytea }
    public static var pgArrayType: PGType { .byteaArray }

    public func pgEncode(into buffer: inout [UInt8]) {
        buffer.append(contentsOf: self)
    }

    public init(pgValue: PGValue) throws {
        let bytes = try pgValue.requireBytes(for: Self.self)
        guard pgValue.type == .bytea else { throw pgValue.typeMismatch(Self.self) }
        self.init(bytes)
    }
}
