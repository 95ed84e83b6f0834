import Foundation
import KeelStore
import KeelTestSupport
import Testing

/// The committed sample picture of a run (docs/run-timeline.svg, drawn by KeelCoreTests from a
/// realistic run) rendered to PNG by a real headless Chromium: the PNG has the picture's size and shows
/// its bars in their colours. With KEEL_UPDATE_SAMPLES=1 it also writes docs/run-timeline.png.
@Suite struct RunTimelinePictureTests {
    /// What the browser saw in a PNG, counted pixel by pixel.
    struct PixelCounts: Decodable {
        var width: Int
        var height: Int
        /// Pixels that are not (nearly) white.
        var inked: Int
        /// Pixels of exactly the succeeded green and the failed red of the bars.
        var green: Int
        var red: Int
    }

    @Test func theSamplePictureRendersToAPNGOfItsSizeShowingItsBars() async throws {
        let docs = TestEnvironment.packageRoot.appendingPathComponent("docs")
        let svg = try await BlockingIO.run {
            try Data(contentsOf: docs.appendingPathComponent("run-timeline.svg"))
        }
        let text = try #require(String(data: svg, encoding: .utf8))
        let width = try #require(Self.dimension("width", in: text))
        let height = try #require(Self.dimension("height", in: text))
        #expect(width == 960 && height > 100)

        let browser = try await HeadlessChromium.launch()
        let png: Data
        let counts: PixelCounts
        do {
            try await browser.open("data:image/svg+xml;base64," + svg.base64EncodedString())
            png = try await browser.screenshot(size: (width, height))
            counts = try await Self.count(png, in: browser)
            await browser.close()
        } catch {
            await browser.close()
            throw error
        }

        // A PNG (its signature), of the picture's size (its IHDR chunk), and so the browser's decoding.
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(Self.bigEndian(png, at: 16) == width && Self.bigEndian(png, at: 20) == height)
        #expect(counts.width == width && counts.height == height)
        // Not blank: text, grid and bars cover a good part of it, in the bars' own colours.
        #expect(counts.inked > width * height / 20)
        #expect(counts.green > 500)
        #expect(counts.red > 100)

        if TestEnvironment.value("KEEL_UPDATE_SAMPLES") == "1" {
            try await BlockingIO.run {
                try png.write(to: docs.appendingPathComponent("run-timeline.png"), options: .atomic)
            }
        }
    }

    /// The integer value of the root element's `name="…"` attribute.
    static func dimension(_ name: String, in svg: String) -> Int? {
        guard let root = svg.range(of: "<svg "), let end = svg[root.upperBound...].firstIndex(of: ">"),
            let start = svg[root.upperBound..<end].range(of: " \(name)=\"")
        else { return nil }
        let value = svg[start.upperBound..<end].prefix { $0 != "\"" }
        return Int(value)
    }

    static func bigEndian(_ data: Data, at offset: Int) -> Int? {
        guard data.count >= offset + 4 else { return nil }
        let bytes = data.dropFirst(offset).prefix(4)
        return bytes.reduce(0) { $0 << 8 | Int($1) }
    }

    /// Decodes `png` in the browser and counts its pixels.
    static func count(_ png: Data, in browser: HeadlessChromium) async throws -> PixelCounts {
        let answer = try await browser.evaluate(
            """
            (async () => {
              const blob = await (await fetch('data:image/png;base64,\(png.base64EncodedString())')).blob();
              const bitmap = await createImageBitmap(blob);
              const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
              const context = canvas.getContext('2d');
              context.drawImage(bitmap, 0, 0);
              const data = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
              let inked = 0, green = 0, red = 0;
              for (let i = 0; i < data.length; i += 4) {
                const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
                if (r < 245 || g < 245 || b < 245) inked++;
                if (r === 0x2d && g === 0xa4 && b === 0x4e) green++;
                if (r === 0xcf && g === 0x22 && b === 0x2e) red++;
              }
              return { width: bitmap.width, height: bitmap.height, inked, green, red };
            })()
            """)
        return try JSONDecoder().decode(PixelCounts.self, from: Data(answer.jsonString().utf8))
    }
}
