import Foundation
import Testing

@testable import KeelCore

@Suite struct FlowProbe {
    @Test func probe() throws {
        let text = try String(contentsOfFile: "/tmp/flowprobe.yaml", encoding: .utf8)
        for error in FlowTest.errors(text) { print(error.code, error) }
    }
}
