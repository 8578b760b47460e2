public import TaskerCore
public import TaskerWorker

/// The reference handler `square`: outputs `{"value": x * x mod p}` (p = 1,000,000,007).
///
/// The input `x` is, for a root step, the integer `context[handler_config.input_key]`
/// (default key `even_number`); for a step with parents, the product of the parents'
/// `value` results modulo p. A missing or non-integer input is a permanent failure.
/// ``FailureInjection`` applies first.
public struct SquareHandler: StepHandler {
    /// The context key read by root steps when `handler_config.input_key` is not set.
    public static let defaultInputKey = "even_number"

    public init() {}

    public func handle(_ step: StepContext) async throws -> JSONValue {
        try await FailureInjection.apply(to: step)
        let input = try Self.input(of: step)
        return ["value": .int(ExampleHandlers.square(input))]
    }

    /// The value a step squares (see the type's documentation).
    public static func input(of step: StepContext) throws(StepFailure) -> Int64 {
        if step.parentResults.isEmpty {
            let key = step.config["input_key"]?.stringValue ?? defaultInputKey
            guard let value = step.context[key] else {
                throw StepFailure.permanent("square: context.\(key) is missing")
            }
            guard let number = value.intValue else {
                throw StepFailure.permanent("square: context.\(key) must be an integer, got \(value.typeName)")
            }
            return number
        }
        var product: Int64 = 1
        for (parent, result) in step.parentResults.sorted(by: { $0.key < $1.key }) {
            guard let value = result["value"] else {
                throw StepFailure.permanent("square: the result of parent '\(parent)' has no 'value'")
            }
            guard let number = value.intValue else {
                throw StepFailure.permanent("square: the 'value' of parent '\(parent)' must be an integer, got \(value.typeName)")
            }
            product = ExampleHandlers.multiply(product, number)
        }
        return product
    }
}
