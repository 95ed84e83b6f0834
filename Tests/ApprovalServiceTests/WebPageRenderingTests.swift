import Foundation
import Hummingbird
import KeelCore
import KeelStore
import Testing

@testable import approval_service

/// The pages' building blocks without a server: escaping, the CSRF token, the diff view, and a whole
/// approval page built from hostile text.
@Suite struct WebPageRenderingTests {
    static let hostile = #"<script>alert("x")</script> & 'quoted' <img src=x onerror=alert(1)>"#

    @Test func interpolatedTextIsEscapedAndMarkupIsNot() {
        let inner: HTML = "<b>\(Self.hostile)</b>"
        let outer: HTML = "<p>\(inner)</p>"
        #expect(
            outer.markup
                == "<p><b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39; &lt;img src=x onerror=alert(1)&gt;</b></p>"
        )
    }

    @Test func csrfTokenIsBoundToItsSession() {
        let token = CSRFToken.make(session: "keel_0011223344556677_secret-a")
        #expect(token.count == 64)
        #expect(CSRFToken.isValid(token, session: "keel_0011223344556677_secret-a"))
        #expect(CSRFToken.isValid(token.uppercased(), session: "keel_0011223344556677_secret-a"))
        #expect(!CSRFToken.isValid(token, session: "keel_0011223344556677_secret-b"))
        #expect(!CSRFToken.isValid(nil, session: "keel_0011223344556677_secret-a"))
        #expect(!CSRFToken.isValid("", session: "keel_0011223344556677_secret-a"))
        #expect(!CSRFToken.isValid(String(token.dropLast()), session: "keel_0011223344556677_secret-a"))
        #expect(
            !CSRFToken.isValid(String(repeating: "z", count: 64), session: "keel_0011223344556677_secret-a"))
    }

    @Test func diffLinesGetTheirClassesAndStayEscaped() {
        let diff = """
            diff --git a/x.html b/x.html
            --- a/x.html
            +++ b/x.html
            @@ -1,2 +1,2 @@
             <p>same</p>
            -<p>old</p>
            +<script>new()</script>
            """
        let html = DiffView.render(diff).markup
        #expect(html.contains(#"<span class="diff-file">diff --git a/x.html b/x.html</span>"#))
        #expect(html.contains(#"<span class="diff-file">+++ b/x.html</span>"#))
        #expect(html.contains(#"<span class="diff-hunk">@@ -1,2 +1,2 @@</span>"#))
        #expect(html.contains(#"<span class="diff-context"> &lt;p&gt;same&lt;/p&gt;</span>"#))
        #expect(html.contains(#"<span class="diff-removed">-&lt;p&gt;old&lt;/p&gt;</span>"#))
        #expect(html.contains(#"<span class="diff-added">+&lt;script&gt;new()&lt;/script&gt;</span>"#))
        #expect(!html.contains("<script>"))
        #expect(
            DiffView.render("+a\n").markup == #"<pre class="diff"><span class="diff-added">+a</span></pre>"#)
        #expect(DiffView.isDiff(mediaType: "text/x-diff; charset=utf-8"))
        #expect(DiffView.isDiff(mediaType: "text/x-patch"))
        #expect(!DiffView.isDiff(mediaType: "text/plain"))
    }

    @Test func ageReadsForPeople() {
        let start = Date(timeIntervalSince1970: 1_000_000)
        #expect(Age.text(from: start, to: start.addingTimeInterval(30)) == "just now")
        #expect(Age.text(from: start, to: start.addingTimeInterval(12 * 60)) == "12 min")
        #expect(Age.text(from: start, to: start.addingTimeInterval(3 * 3600 + 5 * 60)) == "3 h 5 min")
        #expect(Age.text(from: start, to: start.addingTimeInterval(2 * 86400 + 4 * 3600)) == "2 d 4 h")
    }
}
