public import TaskerCore

/// A step handler with typed input and output: the task context, the parents' results and the
/// handler configuration are decoded into `Decodable` types, and the returned `Encodable`
/// value becomes the step's results.
///
/// ```swift
/// struct ShipOrder: TypedStepHandler {
///     struct Order: Decodable, Sendable { var orderId: String }                 // the task context
///     struct Parents: Decodable, Sendable {                                       // by parent step name
///         var reserveInventory: Reservation
///         var authorizePayment: Authorization
///     }
///     struct Config: Decodable, Sendable { var carrier: String }                  // handler_config
///     struct Shipment: Encodable, Sendable { var trackingNumber: String }
///
///     func handle(_ step: TypedStep<Order, Parents, Config>) async throws -> Shipment {
///         step.logger.debug("shipping")
///         return Shipment(trackingNumber: "\(step.config.carrier)-\(step.context.orderId)")
///     }
/// }
/// registry.register("ship_order", ShipOrder())
/// ```
///
/// Keys are converted between snake_case in JSON and camelCase in Swift by default
/// (`order_id` ↔ `orderId`, `reserve_inventory` ↔ `reserveInventory`); set ``keyCoding`` to
/// ``StepKeyCoding/useDefaultKeys`` to match keys exactly (and use `CodingKeys` for other names).
///
/// Input that does not decode fails the step **permanently** (retrying cannot fix it), with a
/// message that names the value and the path, e.g. `ship_order: context.order_id: missing`.
/// Leave a type at its default ``Ignored`` to not read that input at all. Errors thrown by
/// ``handle(_:)`` are treated as for any ``StepHandler``: throw ``StepFailure`` to choose.
public protocol TypedStepHandler: StepHandler {
    /// The task context (default: not read).
    associatedtype Context: Decodable & Sendable = Ignored
    /// The parents' results, as one object keyed by parent step name (default: not read).
    associatedtype Parents: Decodable & Sendable = Ignored
    /// The step template's `handler_config` (default: not read).
    associatedtype Config: Decodable & Sendable = Ignored
    /// The step's results; encodes to a JSON object (or any JSON value).
    associatedtype Output: Encodable & Sendable

    /// How JSON keys map to Swift property names (default ``StepKeyCoding/snakeCase``).
    static var keyCoding: StepKeyCoding { get }

    /// Runs one attempt of the step.
    func handle(_ step: TypedStep<Context, Parents, Config>) async throws -> Output
}

extension TypedStepHandler {
    public static var keyCoding: StepKeyCoding { .snakeCase }

    /// Decodes the inputs, runs ``handle(_:)-(TypedStep<Context,Parents,Config>)`` and encodes its output.
    public func handle(_ step: StepContext) async throws -> JSONValue {
        let coding = Self.keyCoding
        let typed = try TypedStep(
            context: StepValueCoding.decode(Context.self, from: step.context, place: "context", keys: coding),
            parents: StepValueCoding.decode(Parents.self, from: .object(step.parentResults), place: "parent_results", keys: coding),
            config: StepValueCoding.decode(Config.self, from: step.config, place: "handler_config", keys: coding),
            step: step
        )
        let output = try await handle(typed)
        return try StepValueCoding.encode(output, keys: coding)
    }
}

/// An input a ``TypedStepHandler`` does not read: decodes from any JSON without looking at it.
public struct Ignored: Decodable, Sendable, Hashable {
    public init() {}
    public init(from decoder: any Decoder) throws {}
}
