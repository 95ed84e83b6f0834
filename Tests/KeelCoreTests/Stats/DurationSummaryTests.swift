import Testing

@testable import KeelCore

@Suite("DurationSummary")
struct DurationSummaryTests {
    @Test func percentilesAreNearestRankOverTheSortedValues() {
        let hundred = DurationSummary((1...100).reversed().map { Int64($0) })
        #expect(hundred.count == 100)
        #expect(hundred.p50 == 50 && hundred.p90 == 90 && hundred.p99 == 99 && hundred.max == 100)

        // Ranks ⌈p·n/100⌉ of 8 values: 4, 8, 8.
        let eight = DurationSummary([80, 10, 70, 20, 60, 30, 50, 40])
        #expect(eight.p50 == 40 && eight.p90 == 80 && eight.p99 == 80 && eight.max == 80)

        // Ranks of 3 values: 2, 3, 3.
        let three = DurationSummary([90, 30, 60])
        #expect(three.p50 == 60 && three.p90 == 90 && three.p99 == 90)
    }

    @Test func oneValueIsEveryPercentileAndNoValuesGiveNone() {
        let one = DurationSummary([7])
        #expect(one.count == 1 && one.p50 == 7 && one.p90 == 7 && one.p99 == 7 && one.max == 7)
        let none = DurationSummary([])
        #expect(none.count == 0 && none.p50 == nil && none.p90 == nil && none.p99 == nil && none.max == nil)
    }
}
