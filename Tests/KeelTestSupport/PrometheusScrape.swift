/// A page of Prometheus' text exposition format (what `/metrics` serves), parsed into samples so a
/// test can look a series up by name and labels instead of searching the page for a substring.
public struct PrometheusScrape: Sendable {
    /// One line `name{label="value",...} value`.
    public struct Sample: Sendable, Hashable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public var samples: [Sample]
    /// `# TYPE` lines: metric family name to `counter`, `gauge`, `histogram`, ...
    public var types: [String: String]

    /// A line that is neither a comment nor a sample.
    public struct Malformed: Error, CustomStringConvertible {
        public var line: String
        public var description: String { "not a Prometheus sample: \(line)" }
    }

    public init(samples: [Sample] = [], types: [String: String] = [:]) {
        self.samples = samples
        self.types = types
    }

    public init(parsing text: String) throws {
        self.init()
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let sample = Self.sample(Substring(line)) else { throw Malformed(line: String(line)) }
            samples.append(sample)
        }
    }

    /// The samples of several scrapes together (the same series from several services adds up in `sum`).
    public static func + (lhs: PrometheusScrape, rhs: PrometheusScrape) -> PrometheusScrape {
        PrometheusScrape(
            samples: lhs.samples + rhs.samples, types: lhs.types.merging(rhs.types) { first, _ in first })
    }

    /// The samples named `name` whose labels include all of `labels`.
    public func samples(_ name: String, _ labels: [String: String] = [:]) -> [Sample] {
        samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
    }

    /// The sum of `samples(name, labels)`; 0 when there is none.
    public func sum(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples(name, labels).reduce(0) { $0 + $1.value }
    }

    private static func sample(_ line: Substring) -> Sample? {
        var rest = line[...]
        let name = rest.prefix { $0 != "{" && $0 != " " }
        guard !name.isEmpty else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let key = rest.prefix { $0 != "=" }
                rest = rest.dropFirst(key.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    guard character == "\\" else {
                        value.append(character)
                        continue
                    }
                    guard let escaped = rest.first else { return nil }
                    rest = rest.dropFirst()
                    value.append(escaped == "n" ? "\n" : escaped)
                }
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                labels[String(key)] = value
                if rest.first == "," { rest = rest.dropFirst() }
                guard !rest.isEmpty else { return nil }
            }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ")
        guard let text = fields.first, let value = Self.value(text) else { return nil }
        return Sample(name: String(name), labels: labels, value: value)
    }

    private static func value(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }
}
