import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The browser driver against a tiny page served in this process: a form post sets an HttpOnly,
/// SameSite=Strict cookie and redirects; the next page shows what the cookie carried.
@Suite struct HeadlessChromiumTests {
    struct Remembered: Decodable {
        var word: String
    }

    static func application() -> some ApplicationProtocol {
        let router = Router()
        router.get("form") { _, _ in
            page(
                "Form",
                """
                <form method="post" action="/remember">
                  <input id="word" name="word" type="text">
                  <button id="save" type="submit">Save</button>
                </form>
                """)
        }
        router.post("remember") { request, context -> Response in
            let form = try await URLEncodedFormDecoder().decode(
                Remembered.self, from: request, context: context)
            var response = Response(status: .seeOther, headers: [.location: "/shown"])
            response.setCookie(
                Cookie(name: "word", value: form.word, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        router.get("shown") { request, _ in
            let word = request.cookies["word"]?.value ?? "(no cookie)"
            return page("Shown", "<p id=\"said\">You said: \(word)</p>")
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func page(_ title: String, _ body: String) -> Response {
        let html = "<!doctype html><html><head><title>\(title)</title></head><body>\(body)</body></html>"
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    @Test func formPostSetsACookieTheNextPageShows() async throws {
        try await Self.application().test(.live) { client in
            let port = try #require(client.port)
            let browser = try await HeadlessChromium.launch()
            do {
                try await browser.open("http://127.0.0.1:\(port)/form")
                #expect(try await browser.title() == "Form")
                try await browser.fill("#word", "kestrel")
                try await browser.click("#save")
                #expect(try await browser.url() == "http://127.0.0.1:\(port)/shown")
                #expect(try await browser.text() == "You said: kestrel")
                // HttpOnly: the page's JavaScript cannot read it; the browser still holds it.
                #expect(try await browser.evaluate("document.cookie") == "")
                let cookie = try #require(try await browser.cookies().first { $0.name == "word" })
                #expect(cookie.value == "kestrel")
                #expect(cookie.httpOnly)
                #expect(cookie.sameSite == "Strict")
                #expect(cookie.path == "/")
            } catch {
                Issue.record("\(error)\nbrowser log:\n\(browser.log)")
            }
            await browser.close()
            #expect(browser.survivingProcesses().isEmpty)
        }
    }

    @Test func aThrowingScriptAndAMissingElementAreErrors() async throws {
        let browser = try await HeadlessChromium.launch()
        await #expect(throws: BrowserError.self) { try await browser.evaluate("null.property") }
        await #expect(throws: BrowserError.self) { try await browser.fill("#absent", "x") }
        #expect(try await browser.evaluate("[1, 'two', {three: 3}]") == [1, "two", ["three": 3]])
        await browser.close()
        #expect(browser.survivingProcesses().isEmpty)
    }
}
