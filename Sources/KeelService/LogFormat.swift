/// How services write log lines: `logfmt` for people at a terminal, `json` for log shippers.
public enum LogFormat: String, Sendable, CaseIterable {
    case logfmt
    case json
}
