extension FlowDecoder {
    static let notifyFields = ["url", "events", "format"]

    /// `notify:`: a list of at most `FlowNotification.maximumEntries` `{url, events?, format?}`; a URL
    /// must be an absolute http(s) URL, written out (a template could send a run's data anywhere).
    mutating func decodeNotify(_ node: SourceNode, _ path: String) -> [FlowNotification]? {
        guard let elements = list(node, path) else { return nil }
        if elements.count > FlowNotification.maximumEntries {
            fail(
                .limitExceeded, at: node.position, path,
                "expected at most \(FlowNotification.maximumEntries) notify entries; got \(elements.count)")
            return nil
        }
        var entries: [FlowNotification] = []
        for (index, element) in elements.enumerated() {
            if let entry = decodeNotification(element, FlowPath.index(path, index)) {
                entries.append(entry)
            }
        }
        return entries.count == elements.count ? entries : nil
    }

    mutating func decodeNotification(_ node: SourceNode, _ path: String) -> FlowNotification? {
        guard let fields = fields(node, path, allowed: Self.notifyFields) else { return nil }
        let errorCount = errors.count
        var url: String?
        if let urlNode = required(fields, "url"), let text = string(urlNode, fields.path("url")) {
            if let problem = FlowNotification.urlProblem(text) {
                fail(
                    .invalidValue, at: urlNode.position, fields.path("url"),
                    "\(problem); got '\(FlowError.quoted(text))'")
            } else {
                url = text
            }
        }
        var events = Set(NotificationEvent.allCases)
        if let eventsNode = fields["events"],
            let elements = list(eventsNode, fields.path("events"), nonEmpty: true)
        {
            events = []
            for (index, element) in elements.enumerated() {
                let options = NotificationEvent.allCases.map(\.rawValue)
                if let name = oneOf(element, FlowPath.index(fields.path("events"), index), options),
                    let event = NotificationEvent(rawValue: name)
                {
                    events.insert(event)
                }
            }
        }
        var format = NotificationFormat.standard
        if let formatNode = fields["format"],
            let name = oneOf(formatNode, fields.path("format"), NotificationFormat.allCases.map(\.rawValue)),
            let parsed = NotificationFormat(rawValue: name)
        {
            format = parsed
        }
        guard errors.count == errorCount, let url else { return nil }
        return FlowNotification(url: url, events: events, format: format)
    }
}

extension FlowNotification {
    /// Why `text` cannot be a webhook's URL, or nil: absolute http(s), a host, no credentials, no
    /// whitespace or control characters, at most `FlowNotification.maximumURLLength` bytes.
    public static func urlProblem(_ text: String) -> String? {
        let expected = "expected an absolute http:// or https:// URL"
        if text.utf8.count > FlowNotification.maximumURLLength {
            return "expected a URL of at most \(FlowNotification.maximumURLLength) bytes"
        }
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            rest = text.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            rest = text.dropFirst(7)
        } else {
            return expected
        }
        if text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) {
            return expected + " without spaces or control characters"
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if authority.isEmpty || authority.hasPrefix(":") { return expected + " with a host" }
        // Credentials in a flow file would be visible to everyone who reads flows.
        if authority.contains("@") { return expected + " without user or password" }
        return nil
    }

    /// The canonical form: defaults (every event, `standard`) omitted, events sorted.
    var jsonValue: JSONValue {
        var object = JSONObject()
        object["url"] = .string(url)
        if events != Set(NotificationEvent.allCases) {
            object["events"] = .array(events.sorted().map { .string($0.rawValue) })
        }
        if format != .standard { object["format"] = .string(format.rawValue) }
        return .object(object)
    }
}
