extension ResourceReference {
    /// Every resource reference inside `value`, sorted and without repeats: strings that are exactly
    /// `res:sha256:<64 hex>`, which includes the `{"$resource": "res:sha256:…", …}` objects step
    /// outputs carry. Bare digests are not taken for references here: any 64-hex string would be.
    public static func references(in value: JSONValue) -> [ResourceReference] {
        var found: Set<ResourceReference> = []
        var pending = [value]
        while let next = pending.popLast() {
            switch next {
            case .string(let text):
                if text.hasPrefix(prefix), let reference = try? ResourceReference(parsing: text) {
                    found.insert(reference)
                }
            case .array(let elements):
                pending.append(contentsOf: elements)
            case .object(let object):
                pending.append(contentsOf: object.values)
            case .null, .bool, .number:
                break
            }
        }
        return found.sorted()
    }
}
