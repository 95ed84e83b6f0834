/// A PostgreSQL data type, identified by its OID; values are sent and received in its binary format.
public struct PGType: Hashable, Sendable, CustomStringConvertible {
    public var oid: UInt32

    public init(oid: UInt32) { self.oid = oid }

    public static let bool = PGType(oid: 16)
    public static let bytea = PGType(oid: 17)
    public static let char = PGType(oid: 18)
    public static let name = PGType(oid: 19)
    public static let int8 = PGType(oid: 20)
    public static let int2 = PGType(oid: 21)
    public static let int4 = PGType(oid: 23)
    public static let text = PGType(oid: 25)
    public static let objectIdentifier = PGType(oid: 26)
    public static let json = PGType(oid: 114)
    public static let float4 = PGType(oid: 700)
    public static let float8 = PGType(oid: 701)
    public static let unknown = PGType(oid: 705)
    public static let bpchar = PGType(oid: 1042)
    public static let varchar = PGType(oid: 1043)
    public static let timestamp = PGType(oid: 1114)
    public static let timestamptz = PGType(oid: 1184)
    public static let uuid = PGType(oid: 2950)
    public static let jsonb = PGType(oid: 3802)

    public static let boolArray = PGType(oid: 1000)
    public static let byteaArray = PGType(oid: 1001)
    public static let int2Array = PGType(oid: 1005)
    public static let int4Array = PGType(oid: 1007)
    public static let textArray = PGType(oid: 1009)
    public static let varcharArray = PGType(oid: 1015)
    public static let int8Array = PGType(oid: 1016)
    public static let float4Array = PGType(oid: 1021)
    public static let float8Array = PGType(oid: 1022)
    public static let timestamptzArray = PGType(oid: 1185)
    public static let uuidArray = PGType(oid: 2951)
    public static let jsonbArray = PGType(oid: 3807)

    static let names: [UInt32: String] = [
        16: "bool", 17: "bytea", 18: "char", 19: "name", 20: "int8", 21: "int2", 23: "int4", 25: "text",
        26: "oid", 114: "json", 700: "float4", 701: "float8", 705: "unknown", 1042: "bpchar",
        1043: "varchar", 1114: "timestamp", 1184: "timestamptz", 2950: "uuid", 3802: "jsonb",
        1000: "bool[]", 1001: "bytea[]", 1005: "int2[]", 1007: "int4[]", 1009: "text[]",
        1015: "varchar[]", 1016: "int8[]", 1021: "float4[]", 1022: "float8[]", 1185: "timestamptz[]",
        2951: "uuid[]", 3807: "jsonb[]",
    ]

    public var description: String { Self.names[oid] ?? "oid \(oid)" }
}
