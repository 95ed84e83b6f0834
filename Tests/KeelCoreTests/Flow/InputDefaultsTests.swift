import KeelCore
import Testing

@Suite struct InputDefaultsTests {
    let schema: JSONValue = [
        "type": "object",
        "properties": [
            "host": ["type": "string", "default": "gpu-1"],
            "iterations": ["type": "integer", "default": 1000],
            "commit": ["type": "string"],
        ],
    ]

    @Test func absentPropertiesTakeTheirDefaults() {
        let input: JSONValue = ["commit": "abc1234"]
        #expect(
            InputDefaults.apply(schema, to: input) == [
                "commit": "abc1234", "host": "gpu-1", "iterations": 1000,
            ])
    }

    @Test func givenValuesWinEvenNull() {
        let input: JSONValue = ["host": "gpu-2", "iterations": .null]
        #expect(InputDefaults.apply(schema, to: input) == ["host": "gpu-2", "iterations": .null])
    }

    @Test func nonObjectsAndSchemasWithoutPropertiesAreLeftAlone() {
        #expect(InputDefaults.apply(schema, to: "text") == "text")
        #expect(InputDefaults.apply(["type": "object"], to: ["a": 1]) == ["a": 1])
        #expect(InputDefaults.apply(nil, to: [:]) == [:])
    }
}
