import Foundation

/// What an operator command prints for an answer of the operators' API: with `--json` the answer's
/// document as the API sent it (the shapes in `openapi.yaml`), else `text`.
enum OperatorAPIOutput {
    static func emit(_ document: some Encodable, json: Bool, text: () -> String) {
        guard json else {
            print(text())
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        if let bytes = try? encoder.encode(document) { print(String(decoding: bytes, as: UTF8.self)) }
    }
}
