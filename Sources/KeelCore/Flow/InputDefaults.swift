/// Fills in a trigger input's missing top-level properties from the `default`s its flow's input schema
/// declares (`properties.<name>.default`), so `${{ input.host }}` means the default when the trigger
/// left it out. JSON Schema itself only annotates defaults; Keel applies them, at the top level only,
/// before validating, and the run's recorded input is the completed one.
public enum InputDefaults {
    /// `input` with each absent property that has a default set to it; anything but an object, or a
    /// schema without `properties`, is returned unchanged.
    public static func apply(_ schema: JSONValue?, to input: JSONValue) -> JSONValue {
        guard var object = input.objectValue,
            let properties = schema?.objectValue?["properties"]?.objectValue
        else { return input }
        var changed = false
        for (name, property) in properties {
            if !object.contains(key: name), let value = property.objectValue?["default"] {
                object[name] = value
                changed = true
            }
        }
        return changed ? .object(object) : input
    }
}
