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

extension ResourceReference {
    /// Every resource reference inside `value` with where it is (under `base`), in document order: the
    /// same strings `references(in:)` takes, located so a refusal can name each one.
    public static func locatedReferences(in value: JSONValue, under base: JSONPointer = .root) -> [(
        pointer: JSONPointer, reference: ResourceReference
    )] {
        var found: [(JSONPointer, ResourceReference)] = []
        var pending = [(base, value)]
        while let (pointer, next) = pending.popLast() {
            switch next {
            case .string(let text):
                if text.hasPrefix(prefix), let reference = try? ResourceReference(parsing: text) {
                    found.append((pointer, reference))
                }
            case .array(let elements):
                for (index, element) in elements.enumerated().reversed() {
                    pending.append((pointer.appending(index: index), element))
                }
            case .object(let object):
                for (key, element) in object.reversed() {
                    pending.append((pointer.appending(key), element))
                }
            case .null, .bool, .number:
                break
            }
        }
        return found
    }
}
