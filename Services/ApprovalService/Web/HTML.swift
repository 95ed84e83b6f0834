/// A fragment of HTML that is safe to send: anything interpolated into it is escaped unless it is HTML
/// itself. User text (summaries, notes, step names, artifact content) can only reach a page through here,
/// so forgetting to escape is a type error rather than a cross-site scripting hole.
///
/// ```swift
/// let row: HTML = "<td>\(approval.summary ?? "")</td>"     // escaped
/// let page: HTML = "<main>\(row)</main>"                   // nested as is
/// ```
struct HTML: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The markup, ready to send.
    private(set) var markup: String

    init(stringLiteral value: String) {
        markup = value
    }

    init(stringInterpolation: StringInterpolation) {
        markup = stringInterpolation.markup
    }

    /// Markup made by a renderer that escapes everything it takes in (the run timeline's SVG), as is.
    init(escapedMarkup markup: String) {
        self.markup = markup
    }

    /// The empty fragment.
    static let empty: HTML = ""

    var description: String { markup }

    /// Escapes text for an element's content or a double-quoted attribute value.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    struct StringInterpolation: StringInterpolationProtocol {
        var markup = ""

        init(literalCapacity: Int, interpolationCount: Int) {
            markup.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        mutating func appendLiteral(_ literal: String) {
            markup += literal
        }

        /// Markup, as is.
        mutating func appendInterpolation(_ html: HTML) {
            markup += html.markup
        }

        /// Fragments one after the other.
        mutating func appendInterpolation(_ fragments: [HTML]) {
            for fragment in fragments { markup += fragment.markup }
        }

        /// Text, escaped.
        mutating func appendInterpolation(_ text: String) {
            markup += HTML.escape(text)
        }

        /// Anything else by its description, escaped.
        mutating func appendInterpolation(_ value: some CustomStringConvertible) {
            markup += HTML.escape(value.description)
        }
    }
}

extension Array where Element == HTML {
    /// The fragments one after the other.
    func joined() -> HTML {
        "\(self)"
    }
}
