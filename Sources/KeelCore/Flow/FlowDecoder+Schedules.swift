import Foundation

extension FlowDecoder {
    static let scheduleFields = ["id", "cron", "timezone", "every", "input", "missed"]

    /// `schedules:`: a list of `{id, cron, timezone?, input?, missed?}` or `{id, every, input?, missed?}`.
    /// Each input is checked against the flow's input schema (with its defaults) now, so a schedule that
    /// could only ever be refused is never pushed.
    mutating func decodeSchedules(_ node: SourceNode, _ path: String) -> [FlowSchedule]? {
        guard let elements = list(node, path) else { return nil }
        if elements.count > 64 {
            fail(
                .limitExceeded, at: node.position, path,
                "expected at most 64 schedules; got \(elements.count)")
            return nil
        }
        var schedules: [FlowSchedule] = []
        var seen = Set<String>()
        for (index, element) in elements.enumerated() {
            let elementPath = FlowPath.index(path, index)
            guard let schedule = decodeSchedule(element, elementPath) else { continue }
            if !seen.insert(schedule.id).inserted {
                fail(
                    .invalidValue, at: element.position, elementPath,
                    "schedule id '\(schedule.id)' is used twice")
                continue
            }
            schedules.append(schedule)
        }
        return schedules.count == elements.count ? schedules : nil
    }

    mutating func decodeSchedule(_ node: SourceNode, _ path: String) -> FlowSchedule? {
        guard let fields = fields(node, path, allowed: Self.scheduleFields) else { return nil }
        let id = required(fields, "id").flatMap {
            name(
                $0, fields.path("id"), pattern: .stepID,
                description: "a schedule id matching ^[a-z][a-z0-9_-]{0,63}$")
        }
        var when: FlowSchedule.When?
        switch (fields["cron"], fields["every"]) {
        case (let cron?, nil):
            if let text = string(cron, fields.path("cron")) {
                do {
                    let expression = try CronExpression(parsing: text)
                    var zone = "UTC"
                    if let zoneNode = fields["timezone"],
                        let given = string(zoneNode, fields.path("timezone"))
                    {
                        if TimeZone(identifier: given) == nil {
                            fail(
                                .invalidValue, at: zoneNode.position, fields.path("timezone"),
                                "expected an IANA time zone such as Europe/Berlin or UTC; got '\(FlowError.quoted(given))'"
                            )
                        } else {
                            zone = given
                        }
                    }
                    if expression.next(
                        after: Date(timeIntervalSince1970: 0), in: TimeZone(identifier: zone) ?? .gmt)
                        == nil
                    {
                        fail(
                            .invalidValue, at: cron.position, fields.path("cron"),
                            "the expression '\(text)' never fires")
                    } else {
                        when = .cron(expression, timeZone: zone)
                    }
                } catch {
                    fail(
                        .invalidValue, at: cron.position, fields.path("cron"),
                        "invalid cron expression: \(error)")
                }
            }
        case (nil, let every?):
            if let zoneNode = fields["timezone"] {
                fail(
                    .invalidValue, at: zoneNode.position, fields.path("timezone"),
                    "timezone applies to cron only")
            }
            if let interval = duration(every, fields.path("every")) {
                if interval < FlowSchedule.minimumInterval {
                    fail(.invalidValue, at: every.position, fields.path("every"), "expected at least 1s")
                } else {
                    when = .every(interval)
                }
            }
        default:
            fail(.invalidValue, at: node.position, path, "expected exactly one of 'cron' and 'every'")
        }
        var input = JSONValue.object([:])
        if let inputNode = fields["input"] {
            guard let value = json(inputNode, fields.path("input")) else { return nil }
            input = value
            if let schema = inputSchema.flatMap({ try? JSONSchema($0) }) {
                let problems = schema.validate(InputDefaults.apply(inputSchema, to: input))
                if let first = problems.first {
                    fail(
                        .invalidValue, at: inputNode.position, fields.path("input"),
                        "the flow's input schema refuses this input: \(first)")
                }
            }
        } else if let schema = inputSchema.flatMap({ try? JSONSchema($0) }),
            let first = schema.validate(InputDefaults.apply(inputSchema, to: input)).first
        {
            fail(
                .missingField, at: node.position, path,
                "the flow's input schema refuses an empty input (\(first)); give the schedule an input")
        }
        var missed = FlowSchedule.MissedTicks.skip
        if let missedNode = fields["missed"], let text = string(missedNode, fields.path("missed")) {
            if let parsed = FlowSchedule.MissedTicks(rawValue: text) {
                missed = parsed
            } else {
                fail(
                    .invalidValue, at: missedNode.position, fields.path("missed"),
                    "expected skip or run-once; got '\(FlowError.quoted(text))'")
            }
        }
        guard let id, let when else { return nil }
        return FlowSchedule(id: id, when: when, input: input, missed: missed)
    }
}

extension FlowSchedule {
    /// The canonical form: defaults (UTC, `{}`, `skip`) omitted.
    var jsonValue: JSONValue {
        var object = JSONObject()
        object["id"] = .string(id)
        switch when {
        case .cron(let expression, let zone):
            object["cron"] = .string(expression.description)
            if zone != "UTC" { object["timezone"] = .string(zone) }
        case .every(let interval):
            object["every"] = .string(interval.description)
        }
        if input != .object([:]) { object["input"] = input }
        if missed != .skip { object["missed"] = .string(missed.rawValue) }
        return .object(object)
    }
}
