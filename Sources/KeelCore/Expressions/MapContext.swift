/// `map`: the element a mapped step's attempt works on. Only a step with `map:` has one.
public struct MapContext: Sendable, Hashable {
    /// `map.item`: the element of the evaluated `map.over` list.
    public var item: JSONValue
    /// `map.index`: the element's 0-based position in that list.
    public var index: Int

    public init(item: JSONValue, index: Int) {
        self.item = item
        self.index = index
    }

    func value(of field: MapField) -> JSONValue {
        switch field {
        case .item: item
        case .index: .number(JSONNumber(index))
        }
    }
}

/// A field of the `map` root.
public enum MapField: String, Sendable, Hashable, CaseIterable {
    case item
    case index
}
