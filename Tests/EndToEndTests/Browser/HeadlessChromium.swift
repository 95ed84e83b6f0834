import Foundation
import KeelCore
import KeelStore
import KeelTestSupport

/// A real headless Chromium for end-to-end tests, driven over the DevTools protocol: one page, opened
/// with ``open(_:)``, read with ``evaluate(_:)``, filled and clicked like a person would.
///
/// Every wait is bounded (60 s by default): far beyond what a working browser needs on a loaded machine,
/// there only so a broken mechanism fails the test instead of hanging it. Always ``close()`` it; a browser
/// that is dropped unclosed is killed (with its helpers) all the same.
final class HeadlessChromium: Sendable {
    private let process: ChromiumProcess
    private let connection: DevToolsConnection
    /// The flattened DevTools session of our page.
    private let sessionID: String
    let timeout: Duration

    private init(
        process: ChromiumProcess, connection: DevToolsConnection, sessionID: String, timeout: Duration
    ) {
        self.process = process
        self.connection = connection
        self.sessionID = sessionID
        self.timeout = timeout
    }

    /// Starts a browser with a fresh profile and one blank page.
    static func launch(timeout: Duration = .seconds(60)) async throws -> HeadlessChromium {
        let (process, connection) = try ChromiumProcess.launch()
        connection.start()
        do {
            let target = try await connection.send(
                "Target.createTarget", ["url": "about:blank"], timeout: timeout)
            guard let targetID = target["targetId"]?.stringValue else {
                throw BrowserError.launchFailed("Target.createTarget answered \(target)")
            }
            let attached = try await connection.send(
                "Target.attachToTarget", ["targetId": .string(targetID), "flatten": true], timeout: timeout)
            guard let sessionID = attached["sessionId"]?.stringValue else {
                throw BrowserError.launchFailed("Target.attachToTarget answered \(attached)")
            }
            for domain in ["Page", "Runtime", "Network"] {
                try await connection.send("\(domain).enable", sessionID: sessionID, timeout: timeout)
            }
            return HeadlessChromium(
                process: process, connection: connection, sessionID: sessionID, timeout: timeout)
        } catch {
            connection.closeCommands()
            await process.kill()
            throw error
        }
    }

    /// Opens `url` in the page and waits until it has loaded.
    func open(_ url: String) async throws {
        try await waitingForLoad {
            let answer = try await send("Page.navigate", ["url": .string(url)])
            if let reason = answer["errorText"]?.stringValue, !reason.isEmpty {
                throw BrowserError.navigationFailed(url: url, reason: reason)
            }
        }
    }

    /// Runs `action` and waits for the page load it causes (the event may arrive before `action` returns).
    func waitingForLoad(_ action: () async throws -> Void) async throws {
        let mark = connection.mark()
        try await action()
        _ = try await connection.waitForEvent(
            "Page.loadEventFired", sessionID: sessionID, after: mark, timeout: timeout)
    }

    /// Evaluates a JavaScript expression in the page (awaiting a promise) and returns its value as JSON.
    @discardableResult
    func evaluate(_ expression: String) async throws -> JSONValue {
        let answer = try await send(
            "Runtime.evaluate",
            ["expression": .string(expression), "returnByValue": true, "awaitPromise": true])
        if let exception = answer["exceptionDetails"] {
            let text =
                exception["exception"]?["description"]?.stringValue ?? exception["text"]?.stringValue
                ?? exception.jsonString()
            throw BrowserError.scriptFailed(text)
        }
        return answer["result"]?["value"] ?? .null
    }

    /// The page's URL.
    func url() async throws -> String {
        try await evaluate("location.href").stringValue ?? ""
    }

    /// The page's visible text (`document.body.innerText`).
    func text() async throws -> String {
        try await evaluate("document.body ? document.body.innerText : ''").stringValue ?? ""
    }

    /// The page's title.
    func title() async throws -> String {
        try await evaluate("document.title").stringValue ?? ""
    }

    /// Types `text` into the form field matching `selector` (replacing its value).
    func fill(_ selector: String, _ text: String) async throws {
        let found = try await evaluate(
            """
            (() => {
              const field = document.querySelector(\(Self.literal(selector)));
              if (!field) return false;
              field.focus();
              field.value = \(Self.literal(text));
              field.dispatchEvent(new Event('input', { bubbles: true }));
              field.dispatchEvent(new Event('change', { bubbles: true }));
              return true;
            })()
            """)
        guard found == true else { throw BrowserError.noSuchElement(selector) }
    }

    /// Clicks the element matching `selector`; with `waitForNavigation` (a submit button, a link), waits
    /// for the page it leads to to load.
    func click(_ selector: String, waitForNavigation: Bool = true) async throws {
        let click = {
            let found = try await self.evaluate(
                """
                (() => {
                  const element = document.querySelector(\(Self.literal(selector)));
                  if (!element) return false;
                  element.click();
                  return true;
                })()
                """)
            guard found == true else { throw BrowserError.noSuchElement(selector) }
        }
        if waitForNavigation {
            try await waitingForLoad(click)
        } else {
            try await click()
        }
    }

    /// A PNG of the whole page, for looking at what a test saw; with `size`, of the page's top-left
    /// `width` × `height` CSS pixels at scale 1 (a picture of exactly that size).
    func screenshot(size: (width: Int, height: Int)? = nil) async throws -> Data {
        var params: JSONObject = ["format": "png", "captureBeyondViewport": true]
        if let size {
            params["clip"] = [
                "x": 0, "y": 0, "width": .number(JSONNumber(size.width)),
                "height": .number(JSONNumber(size.height)), "scale": 1,
            ]
        }
        let answer = try await send("Page.captureScreenshot", params)
        guard let text = answer["data"]?.stringValue, let png = Data(base64Encoded: text) else {
            throw BrowserError.protocolError(
                method: "Page.captureScreenshot", message: "no image in \(answer)")
        }
        return png
    }

    /// Saves a screenshot as `<name>.png` in `KEEL_BROWSER_SCREENSHOTS` when that names a folder (for
    /// looking at a page while debugging); does nothing otherwise.
    /// With `size`, only the page's top-left `width` × `height` CSS pixels (small pictures for the docs).
    func saveScreenshot(_ name: String, size: (width: Int, height: Int)? = nil) async throws {
        guard let folder = TestEnvironment.value("KEEL_BROWSER_SCREENSHOTS") else { return }
        let png = try await screenshot(size: size)
        let file = URL(fileURLWithPath: folder).appendingPathComponent("\(name).png")
        try await BlockingIO.run { try png.write(to: file) }
    }

    /// Lays the page out as on a window `width` × `height` CSS pixels wide and high (at scale 1).
    func setViewport(width: Int, height: Int) async throws {
        _ = try await send(
            "Emulation.setDeviceMetricsOverride",
            [
                "width": .number(JSONNumber(width)), "height": .number(JSONNumber(height)),
                "deviceScaleFactor": 1, "mobile": false,
            ])
    }

    /// Every cookie the browser holds, with its HttpOnly, Secure and SameSite flags (which page
    /// JavaScript cannot see).
    func cookies() async throws -> [BrowserCookie] {
        let answer = try await connection.send("Storage.getCookies", timeout: timeout)
        return (answer["cookies"]?.arrayValue ?? []).map { cookie in
            BrowserCookie(
                name: cookie["name"]?.stringValue ?? "", value: cookie["value"]?.stringValue ?? "",
                domain: cookie["domain"]?.stringValue ?? "", path: cookie["path"]?.stringValue ?? "",
                httpOnly: cookie["httpOnly"]?.boolValue ?? false,
                secure: cookie["secure"]?.boolValue ?? false,
                sameSite: cookie["sameSite"]?.stringValue)
        }
    }

    /// Closes the browser and kills whatever is left of its process group; deletes its profile.
    func close() async {
        // Ask politely first, so Chromium reaps its own helpers; the kill below is bounded either way.
        _ = try? await connection.send("Browser.close", timeout: .seconds(10))
        connection.closeCommands()
        let deadline = ContinuousClock.now + .seconds(10)
        while !process.hasExited && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        await process.kill()
    }

    /// Processes of this browser still alive (for tests of ``close()`` itself).
    func survivingProcesses() -> [pid_t] {
        process.survivors()
    }

    /// What the browser logged so far.
    var log: String { process.log }

    private func send(_ method: String, _ params: JSONObject = [:]) async throws -> JSONValue {
        try await connection.send(method, params, sessionID: sessionID, timeout: timeout)
    }

    /// `text` as a JavaScript string literal (JSON's string syntax is valid JavaScript).
    private static func literal(_ text: String) -> String {
        JSONValue.string(text).jsonString()
    }
}
