import Foundation
import Testing

@testable import KeelCore

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The run's picture parsed back as XML: its structure, its text, its bars.
@Suite("RunTimelineSVG")
struct RunTimelineSVGTests {
    private func parse(_ svg: String) throws -> XMLDocument {
        try XMLDocument(xmlString: svg, options: [])
    }

    private func elements(_ document: XMLDocument, _ path: String) throws -> [XMLElement] {
        try document.nodes(forXPath: path).compactMap { $0 as? XMLElement }
    }

    private func titleText(of element: XMLElement) throws -> String? {
        try element.nodes(forXPath: "*[local-name()='title']").first?.stringValue
    }

    private func attribute(_ element: XMLElement, _ name: String) -> String? {
        // By name among all attributes: FoundationXML's lookup misses them under a default namespace.
        element.attributes?.first { $0.name == name }?.stringValue
    }

    @Test func thePictureIsWellFormedSVGWithATitleAndOneBarPerAttempt() throws {
        let timeline = try SampleRun.timeline()
        #expect(timeline.status == .succeeded)
        let document = try parse(RunTimelineSVG.render(timeline))
        let root = try #require(document.rootElement())
        #expect(root.localName == "svg" && root.uri == "http://www.w3.org/2000/svg")
        #expect(attribute(root, "role") == "img")
        let title = try #require(try elements(document, "/*/*[local-name()='title']").first)
        #expect(title.stringValue == "Run \(timeline.runID) of gpu-benchmark v3: succeeded")

        let bars = try elements(document, "//*[local-name()='g'][@class='attempt']")
        #expect(bars.map { attribute($0, "data-step") } == ["build", "build", "bench", "review", "report"])
        #expect(bars.map { attribute($0, "data-attempt") } == ["1", "2", "1", "1", "1"])
        #expect(
            bars.map { attribute($0, "data-outcome") } == [
                "failed", "succeeded", "succeeded", "succeeded", "succeeded",
            ])
        // Every bar says what it is, for a tooltip and a screen reader.
        for bar in bars {
            let tooltip = try #require(try titleText(of: bar))
            #expect(tooltip.hasPrefix("\(attribute(bar, "data-step") ?? ""), attempt "))
        }
        let rows = try elements(document, "//*[local-name()='g'][@class='step']")
        #expect(rows.count == 4)
    }

    @Test func aRetriedAttemptIsItsOwnRedBarBeforeTheGreenOne() throws {
        let document = try parse(RunTimelineSVG.render(try SampleRun.timeline()))
        let build = try elements(document, "//*[local-name()='g'][@data-step='build']")
        try #require(build.count == 2)
        let first = try elements(document, "//*[local-name()='g'][@data-step='build'][@data-attempt='1']/*")
        let second = try elements(document, "//*[local-name()='g'][@data-step='build'][@data-attempt='2']/*")
        let running = { (parts: [XMLElement]) in parts.first { self.attribute($0, "class") == "running" } }
        let failed = try #require(running(first))
        let succeeded = try #require(running(second))
        #expect(attribute(failed, "fill") == "#cf222e")
        #expect(attribute(succeeded, "fill") == "#2da44e")
        let firstEnd =
            (Double(attribute(failed, "x") ?? "") ?? .infinity)
            + (Double(attribute(failed, "width") ?? "") ?? 0)
        #expect(firstEnd < Double(attribute(succeeded, "x") ?? "") ?? 0)
        let tooltip = try #require(
            try elements(
                document,
                "//*[local-name()='g'][@data-attempt='1'][@data-step='build']/*[local-name()='title']"
            )
            .first?.stringValue)
        #expect(tooltip.contains("transient: runner lost: connection reset"))
        #expect(tooltip.contains("retried as attempt 2"))
    }

    @Test func queuedRunningAndWaitingStretchesAreDrawnInOrder() throws {
        let document = try parse(RunTimelineSVG.render(try SampleRun.timeline()))
        let phases = { (step: String) in
            try self.elements(document, "//*[local-name()='g'][@data-step='\(step)']/*[local-name()='rect']")
                .map { self.attribute($0, "class") ?? "" }
        }
        #expect(try phases("bench") == ["queued", "running", "waiting"])
        #expect(try phases("review") == ["waiting"])
        #expect(try phases("report") == ["queued", "running"])
        let waiting = try #require(
            try elements(document, "//*[local-name()='g'][@data-step='bench']/*[@class='waiting']").first)
        #expect(attribute(waiting, "fill-opacity") == "0.4")
    }

    @Test func stepNamesAndMessagesAreEscapedAndControlCharactersDropped() throws {
        var timeline = try SampleRun.timeline()
        let hostile = "<script>alert('x')</script> & \"quoted\"\u{1}\u{FFFE}"
        timeline.steps[0].id = hostile
        timeline.steps[0].message = "</title><g onload=\"boom()\"/>"
        timeline.steps[0].attempts[0].message = "]]><!-- & <bad>"
        let svg = RunTimelineSVG.render(timeline)
        #expect(!svg.contains("<script"))
        #expect(!svg.contains("\u{1}"))
        let document = try parse(svg)
        #expect(try elements(document, "//*[local-name()='script']").isEmpty)
        #expect(try elements(document, "//*[@onload]").isEmpty)
        #expect(try elements(document, "//*[local-name()='bad']").isEmpty)
        let cleaned = "<script>alert('x')</script> & \"quoted\""
        let label = try #require(
            try elements(document, "//*[local-name()='g'][@class='step']/*[local-name()='text']").first)
        #expect(label.stringValue == String(cleaned.prefix(23)) + "… (run)")
        let bar = try #require(try elements(document, "//*[local-name()='g'][@class='attempt']").first)
        #expect(attribute(bar, "data-step") == cleaned)
        let tooltip = try #require(try titleText(of: bar))
        #expect(tooltip.contains("]]><!-- & <bad>"))
    }

    @Test func aRunInFlightIsDrawnUpToNowWithItsOpenAttemptInProgress() throws {
        let timeline = try SampleRun.timeline(until: 600_000)
        #expect(timeline.status == .waiting)
        let now = timeline.triggeredAt.adding(milliseconds: 900_000)
        let document = try parse(RunTimelineSVG.render(timeline, now: now))
        let open = try #require(
            try elements(document, "//*[local-name()='g'][@data-outcome='in_progress']").first)
        #expect(attribute(open, "data-step") == "bench")
        // The axis reaches now: 15 minutes, ticked every 2 minutes.
        let labels = try elements(document, "//*[local-name()='g'][@class='axis']/*[local-name()='text']")
        #expect(labels.map(\.stringValue) == ["+0", "+2m", "+4m", "+6m", "+8m", "+10m", "+12m", "+14m"])
        // The waiting stretch runs to the right edge of the plot.
        let waiting = try #require(
            try elements(document, "//*[local-name()='g'][@data-step='bench']/*[@class='waiting']").first)
        let right =
            (Double(attribute(waiting, "x") ?? "") ?? 0) + (Double(attribute(waiting, "width") ?? "") ?? 0)
        #expect(abs(right - 930) < 0.2)
    }

    @Test func axisLabelsReadAsOffsetsFromTheTrigger() {
        #expect(TimelineAxis.label(0) == "+0")
        #expect(TimelineAxis.label(500) == "+0.5s")
        #expect(TimelineAxis.label(45_000) == "+45s")
        #expect(TimelineAxis.label(5_400_000) == "+1h30m")
        #expect(TimelineAxis.label(172_800_000) == "+2d")
        #expect(TimelineAxis(spanMilliseconds: 1_000).ticks == [0, 200, 400, 600, 800, 1_000])
        #expect(TimelineAxis(spanMilliseconds: 0).ticks == [0])
        for span: Int64 in [1, 999, 61_000, 3_600_000, 100_000_000, 2_000_000_000] {
            #expect(TimelineAxis(spanMilliseconds: span).ticks.count <= 9)
        }
        #expect(TimelineAxis.duration(250) == "0.250s")
        #expect(TimelineAxis.duration(200_000) == "3m20s")
    }

    /// docs/run-timeline.svg is the picture of the sample run as the renderer draws it today; set
    /// KEEL_UPDATE_SAMPLES=1 to redraw it (EndToEndTests' RunTimelinePictureTests then redraws the PNG).
    @Test func theSampleUnderDocsIsTheCurrentPicture() throws {
        let svg = RunTimelineSVG.render(try SampleRun.timeline())
        let file = FlowTest.packageRoot.appendingPathComponent("docs/run-timeline.svg")
        if ProcessInfo.processInfo.environment["KEEL_UPDATE_SAMPLES"] == "1" {
            try Data(svg.utf8).write(to: file, options: .atomic)
        }
        let committed = try String(contentsOf: file, encoding: .utf8)
        #expect(committed == svg, "docs/run-timeline.svg is stale: run with KEEL_UPDATE_SAMPLES=1")
    }
}
