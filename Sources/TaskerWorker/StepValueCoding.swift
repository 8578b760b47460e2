import Foundation
public import TaskerCore

/// How a ``TypedStepHandler`` maps JSON keys to Swift property names.
public struct StepKeyCoding: Sendable, Hashable {
    private enum Base: Hashable, Sendable {
        case snakeCase, useDefaultKeys
    }

    private let base: Base
    private init(_ base: Base) { self.base = base }

    /// snake_case in JSON, camelCase in Swift: `order_id` ↔ `orderId` (the default).
    public static let snakeCase = StepKeyCoding(.snakeCase)
    /// Keys match property names (or `CodingKeys`) exactly.
    public static let useDefaultKeys = StepKeyCoding(.useDefaultKeys)

    var isSnakeCase: Bool { base == .snakeCase }
}

/// Decodes typed handler inputs from JSON values and encodes outputs back, turning coding
/// errors into permanent ``StepFailure``s that name the value and the path.
public enum StepValueCoding {
    /// Decodes `type` from `value`; `place` names the input in error messages (`context`,
    /// `parent_results`, `handler_config`).
    ///
    /// - Throws: ``StepFailure/permanent(_:)`` naming the path and the problem.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, place: String, keys: StepKeyCoding) throws(StepFailure) -> T {
        if T.self == Ignored.self, let ignored = Ignored() as? T { return ignored }
        if T.self == JSONValue.self, let same = value as? T { return same }
        let decoder = JSONDecoder()
        if keys.isSnakeCase { decoder.keyDecodingStrategy = .convertFromSnakeCase }
        decoder.dateDecodingStrategy = .iso8601
        do {
            let data = try JSONEncoder().encode(value)
            return try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw StepFailure.permanent("cannot decode \(place) as \(T.self): \(describe(error, place: place, keys: keys))")
        } catch {
            throw StepFailure.permanent("cannot decode \(place) as \(T.self): \(error)")
        }
    }

    /// Encodes a handler's output as the step's results.
    ///
    /// - Throws: ``StepFailure/permanent(_:)`` if the value cannot be encoded (a non-finite number, say).
    public static func encode<T: Encodable>(_ output: T, keys: StepKeyCoding) throws(StepFailure) -> JSONValue {
        if let json = output as? JSONValue { return json }
        let encoder = JSONEncoder()
        if keys.isSnakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
        encoder.dateEncodingStrategy = .iso8601
        do {
            return try JSONValue.parse(try encoder.encode(output))
        } catch {
            throw StepFailure.permanent("cannot encode the results (\(T.self)): \(error)")
        }
    }

    /// `context.items[0].sku: missing`, `handler_config.carrier: expected String, found a number`.
    static func describe(_ error: DecodingError, place: String, keys: StepKeyCoding) -> String {
        func path(_ codingPath: [any CodingKey], adding key: (any CodingKey)? = nil) -> String {
            var text = place
            for component in codingPath + (key.map { [$0] } ?? []) {
                if let index = component.intValue, component.stringValue.hasPrefix("Index ") || component.stringValue == "\(index)" {
                    text += "[\(index)]"
                } else {
                    text += "." + (keys.isSnakeCase ? snakeCased(component.stringValue) : component.stringValue)
                }
            }
            return text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath, adding: key)): missing"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(type), found null"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(type) (\(context.debugDescription))"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// `orderId` → `order_id`, `orderID` → `order_id` (how a snake_case key looked in the JSON).
    static func snakeCased(_ key: String) -> String {
        var result = ""
        var previousWasUppercase = true
        for character in key {
            if character.isUppercase {
                if !previousWasUppercase { result.append("_") }
                result += character.lowercased()
            } else {
                result.append(character)
            }
            previousWasUppercase = character.isUppercase
        }
        return result
    }
}
