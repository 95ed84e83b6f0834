public import Foundation
public import KeelCore

/// One published version of a flow template.
public struct TemplateVersionRecord: Sendable, Hashable, Codable {
    public var name: String
    public var version: Int
    /// SHA-256 of the template's canonical JSON.
    public var sha256: String
    public var parameters: [TemplateParameterRecord]
    /// The YAML as published; flows are created from it.
    public var source: String
    public var author: String
    public var createdAt: Date
}

/// A template parameter as stored and listed: what to pass with `--set NAME=VALUE`.
public struct TemplateParameterRecord: Sendable, Hashable, Codable {
    public var name: String
    public var description: String?
    /// The JSON Schema its value must satisfy.
    public var schema: JSONValue
    /// Nil when the parameter is required.
    public var defaultValue: JSONValue?

    public init(name: String, description: String?, schema: JSONValue, defaultValue: JSONValue?) {
        self.name = name
        self.description = description
        self.schema = schema
        self.defaultValue = defaultValue
    }

    public var required: Bool { defaultValue == nil }

    enum CodingKeys: String, CodingKey {
        case name, description, schema
        case defaultValue = "default"
    }
}
