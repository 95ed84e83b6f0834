/// Reads flow definitions from YAML, reporting every problem at once.
///
/// ```swift
/// do {
///     let flow = try FlowParser.parse(yaml: text, file: "flows/deploy.yaml")
/// } catch {
///     for problem in error { print(problem) }   // flows/deploy.yaml:12:7: steps[2]...: expected ...
/// }
/// ```
public enum FlowParser {
    /// Parses and validates one flow; throws all errors found, in source order.
    public static func parse(
        yaml: String, file: String, limits: FlowLimits = FlowLimits()
    ) throws(FlowErrors) -> FlowDefinition {
        var reader = YAMLSourceReader(file: file, limits: limits)
        guard let root = reader.read(yaml) else { throw FlowErrors(reader.errors) }
        return try decode(root, file: file, limits: limits, earlier: reader.errors, source: yaml)
    }

    /// The same as `parse`, as a `Result`.
    public static func result(yaml: String, file: String, limits: FlowLimits = FlowLimits()) -> Result<
        FlowDefinition, FlowErrors
    > {
        Result { () throws(FlowErrors) in try parse(yaml: yaml, file: file, limits: limits) }
    }

    static func decode(
        _ root: SourceNode, file: String, limits: FlowLimits, earlier: [FlowError] = [], source: String? = nil
    ) throws(FlowErrors) -> FlowDefinition {
        var decoder = FlowDecoder(file: file, limits: limits)
        decoder.errors = earlier
        decoder.source = source
        let flow = decoder.decodeFlow(root)
        var validator = FlowValidator(decoder: decoder)
        validator.validate()
        let errors = validator.decoder.errors
        guard errors.isEmpty, let flow else {
            throw FlowErrors(
                errors.isEmpty
                    ? [
                        FlowError(
                            code: .invalidValue, file: file, position: root.position, path: "",
                            message: "invalid flow definition")
                    ] : errors)
        }
        return flow
    }
}
