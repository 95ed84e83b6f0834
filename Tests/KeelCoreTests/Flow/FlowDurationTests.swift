import Testing

@testable import KeelCore

@Suite("Flow durations")
struct FlowDurationTests {
    @Test(
        "valid durations",
        arguments: [
            ("500ms", 500), ("5s", 5_000), ("15m", 900_000), ("2h", 7_200_000), ("1d", 86_400_000),
            ("1h30m", 5_400_000), ("1d2h3m4s5ms", 93_784_005), ("0s", 0), ("90m", 5_400_000),
            ("366d", 31_622_400_000),
        ] as [(String, Int64)])
    func parses(text: String, milliseconds: Int64) throws {
        let duration = try #require(FlowDuration(parsing: text))
        #expect(duration.milliseconds == milliseconds)
        #expect(FlowDuration(parsing: duration.description) == duration)
    }

    @Test(
        "invalid durations",
        arguments: [
            "", "5", "s", "5 s", " 5s", "5s ", "1.5h", "-5s", "+5s", "5S", "5sec", "5min", "1m1h", "1h1h",
            "5us",
            "367d", "1d1ms1s", "99999999999999d", "1h 30m", "٣s",
        ])
    func rejects(text: String) {
        #expect(FlowDuration(parsing: text) == nil)
    }

    @Test(
        "shortest form",
        arguments: [
            ("90m", "1h30m"), ("3600s", "1h"), ("1500ms", "1s500ms"), ("0ms", "0s"), ("48h", "2d"),
            ("1d0h", "1d"),
        ])
    func shortestForm(text: String, canonical: String) throws {
        #expect(try #require(FlowDuration(parsing: text)).description == canonical)
    }

    @Test func convertsToSwiftDuration() throws {
        #expect(try #require(FlowDuration(parsing: "1m30s")).duration == .seconds(90))
    }

    @Test func comparesByLength() throws {
        #expect(try #require(FlowDuration(parsing: "59m")) < #require(FlowDuration(parsing: "1h")))
    }
}
