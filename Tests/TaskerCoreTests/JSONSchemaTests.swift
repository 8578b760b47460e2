import Testing
import TaskerCore

@Suite struct JSONSchemaTests {
    let orderSchema: JSONValue = [
        "type": "object",
        "required": ["order_id", "items"],
        "additionalProperties": false,
        "properties": [
            "order_id": ["type": "integer", "minimum": 1],
            "channel": ["type": "string", "enum": ["web", "store"]],
            "note": ["type": "string", "minLength": 2, "maxLength": 5],
            "items": ["type": "array", "minItems": 1, "items": ["type": "object", "required": ["sku"]]],
            "score": ["type": "number", "maximum": 10, "exclusiveMinimum": 0],
        ],
    ]

    @Test func validContextHasNoViolations() throws {
        let schema = try JSONSchema(orderSchema)
        let context: JSONValue = ["order_id": 7, "channel": "web", "items": [["sku": "a"]], "score": 9.5, "note": "hey"]
        #expect(schema.validate(context).isEmpty)
    }

    @Test func everyViolationNamesItsPath() throws {
        let schema = try JSONSchema(orderSchema)
        let context: JSONValue = ["order_id": 0, "channel": "fax", "items": [["qty": 1]], "extra": true, "note": "x", "score": 0]
        let messages = schema.validate(context).map(\.description)
        #expect(messages.contains("$.order_id must be >= 1, got 0"))
        #expect(messages.contains(#"$.channel must be one of "web", "store""#))
        #expect(messages.contains("$.items[0].sku is required"))
        #expect(messages.contains("$.extra is not an allowed property"))
        #expect(messages.contains("$.note must be at least 2 characters long, got 1"))
        #expect(messages.contains("$.score must be > 0, got 0"))
        #expect(messages.count == 6)
    }

    @Test func missingRequiredAndWrongTypes() throws {
        let schema = try JSONSchema(orderSchema)
        let messages = schema.validate(["order_id": "7"]).map(\.description)
        #expect(messages.contains("$.order_id expected integer, got string"))
        #expect(messages.contains("$.items is required"))
        #expect(try JSONSchema(["type": "object"]).validate([1, 2]).map(\.description) == ["$ expected object, got array"])
    }

    @Test func integerAcceptsWholeDoublesAndNumberAcceptsIntegers() throws {
        #expect(try JSONSchema(["type": "integer"]).validate(.double(4)).isEmpty)
        #expect(!(try JSONSchema(["type": "integer"]).validate(.double(4.5)).isEmpty))
        #expect(try JSONSchema(["type": "number"]).validate(3).isEmpty)
        #expect(try JSONSchema(["type": ["string", "null"]]).validate(nil).isEmpty)
    }

    @Test func additionalPropertiesCanBeASchema() throws {
        let schema = try JSONSchema(["type": "object", "additionalProperties": ["type": "integer"]])
        #expect(schema.validate(["a": 1]).isEmpty)
        #expect(schema.validate(["a": "x"]).map(\.description) == ["$.a expected integer, got string"])
    }

    @Test func maximumsAndLengthLimits() throws {
        let schema = try JSONSchema(["type": "array", "maxItems": 1, "items": ["type": "string", "maxLength": 1]])
        let messages = schema.validate(["ab", "c"]).map(\.description)
        #expect(messages == ["$ must have at most 1 items, got 2", "$[0] must be at most 1 characters long, got 2"])
    }

    @Test func unknownKeywordsAndBadTypesAreRejectedAtCompileTime() {
        #expect(throws: JSONSchema.InvalidSchema(path: "$.properties.a", message: "unsupported keyword 'minimun'")) {
            try JSONSchema(["properties": ["a": ["minimun": 1]]])
        }
        #expect(throws: JSONSchema.InvalidSchema.self) { try JSONSchema(["type": "int"]) }
        #expect(throws: JSONSchema.InvalidSchema.self) { try JSONSchema(["required": "a"]) }
        #expect(throws: JSONSchema.InvalidSchema.self) { try JSONSchema(["minLength": -1]) }
        #expect(throws: JSONSchema.InvalidSchema.self) { try JSONSchema("object") }
    }
}
