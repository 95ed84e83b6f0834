import ArgumentParser
import Foundation
import KeelCore
import KeelStore

/// `--output`: the callback's output as JSON text, or `@FILE` to read it from a file (`@-`: standard
/// input). It must be a JSON object; anything else is a usage error that names the flag and says what is
/// wrong (where the JSON breaks, or which type it is instead).
enum CallbackOutputArgument {
    /// The output object; `{}` without the flag.
    static func read(_ argument: String?) async throws -> JSONObject {
        guard let argument else { return JSONObject() }
        guard argument.hasPrefix("@") else { return try parse(argument, flag: "--output") }
        let path = String(argument.dropFirst())
        let data = try? await BlockingIO.run {
            if path == "-" { return try FileHandle.standardInput.readToEnd() ?? Data() }
            return try Data(contentsOf: URL(fileURLWithPath: path))
        }
        guard let data else {
            throw ValidationError(
                "--output @\(path): cannot read \(path == "-" ? "standard input" : "the file")")
        }
        return try parse(String(decoding: data, as: UTF8.self), flag: "--output @\(path)")
    }

    /// Parses `text` as the output object; `flag` names where it came from in the error.
    static func parse(_ text: String, flag: String) throws(ValidationError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: text)
        } catch {
            throw ValidationError(
                "\(flag): not valid JSON: \(error.message) at line \(error.line), column \(error.column)")
        }
        guard let object = value.objectValue else {
            throw ValidationError("\(flag): expected a JSON object, got \(article(value.typeName))")
        }
        return object
    }

    private static func article(_ typeName: String) -> String {
        (["array", "integer", "object"].contains(typeName) ? "an " : "a ") + typeName
    }
}
