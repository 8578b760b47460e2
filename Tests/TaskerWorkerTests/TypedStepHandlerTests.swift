import Foundation
import Logging
import TaskerCore
import TaskerTestSupport
@testable import TaskerWorker
import Testing

/// A typed handler with every kind of input: context, parents and config.
private struct ShipOrder: TypedStepHandler {
    struct Order: Decodable, Sendable {
        var orderId: String
        var items: [Item]
    }
    struct Item: Decodable, Sendable {
        var sku: String
        var quantity: Int
    }
    struct Parents: Decodable, Sendable {
        var reserveInventory: Reservation
    }
    struct Reservation: Decodable, Sendable {
        var reservationId: String
    }
    struct Config: Decodable, Sendable {
        var carrier: String
    }
    struct Shipment: Encodable, Sendable {
        var trackingNumber: String
        var itemCount: Int
        var attempt: Int
    }

    func handle(_ step: TypedStep<Order, Parents, Config>) async throws -> Shipment {
        Shipment(
            trackingNumber: "\(step.config.carrier)-\(step.context.orderId)-\(step.parents.reserveInventory.reservationId)",
            itemCount: step.context.items.reduce(0) { $0 + $1.quantity },
            attempt: step.attempt
        )
    }
}

/// Reads nothing, returns a constant: the defaults of every input.
private struct Constant: TypedStepHandler {
    func handle(_ step: TypedStep<Ignored, Ignored, Ignored>) async throws -> [String: Int] { ["answer": 42] }
}

/// Exact keys instead of the snake_case conversion.
private struct ExactKeys: TypedStepHandler {
    static var keyCoding: StepKeyCoding { .useDefaultKeys }
    struct Context: Decodable, Sendable { var order_id: String }
    struct Output: Encodable, Sendable { var seenOrder: String }
    func handle(_ step: TypedStep<Context, Ignored, Ignored>) async throws -> Output { Output(seenOrder: step.context.order_id) }
}

/// Sleeps until cancelled (the step's timeout).
private struct Sleeper: TypedStepHandler {
    func handle(_ step: TypedStep<Ignored, Ignored, Ignored>) async throws -> JSONValue {
        try await Task.sleep(for: step.timeRemaining + .seconds(60))
        return [:]
    }
}

@Suite("TypedStepHandler")
struct TypedStepHandlerTests {
    let executor: StepExecutor = {
        var registry = HandlerRegistry()
        registry.register("ship", ShipOrder())
        registry.register("constant", Constant())
        registry.register("exact", ExactKeys())
        registry.register("sleeper", Sleeper())
        return StepExecutor(registry: registry, workerID: "test")
    }()

    let order: JSONValue = ["order_id": "A-1", "items": [["sku": "tea", "quantity": 2], ["sku": "cup", "quantity": 1]]]

    @Test func decodesContextParentsAndConfigAndEncodesSnakeCaseResults() async {
        let dispatch = makeDispatch(
            handler: "ship", attempt: 2, context: order,
            parentResults: ["reserve_inventory": ["reservation_id": "R-9", "extra": true]],
            handlerConfig: ["carrier": "UPS"])
        let result = await executor.execute(dispatch, logger: testLogger)
        #expect(result.kind == .completed)
        #expect(result.results == ["tracking_number": "UPS-A-1-R-9", "item_count": 3, "attempt": 2])
    }

    @Test func ignoredInputsAcceptAnything() async {
        let dispatch = makeDispatch(handler: "constant", context: ["whatever": [1, 2]], handlerConfig: "a string")
        let result = await executor.execute(dispatch, logger: testLogger)
        #expect(result.results == ["answer": 42])
    }

    @Test func exactKeysAreNotConverted() async {
        let result = await executor.execute(makeDispatch(handler: "exact", context: ["order_id": "B-2"]), logger: testLogger)
        #expect(result.results == ["seenOrder": "B-2"])
    }

    static let badContexts: [(JSONValue, String)] = [
        (["items": []], "cannot decode context as Order: context.order_id: missing"),
        (["order_id": "A", "items": [["sku": "tea", "quantity": "two"]]], "context.items[0].quantity: expected Int"),
        (["order_id": "A", "items": [["sku": nil, "quantity": 1]]], "context.items[0].sku: expected String, found null"),
        ("not an object", "cannot decode context as Order"),
    ]

    @Test(arguments: badContexts)
    func badContextFailsPermanentlyNamingThePath(context: JSONValue, expected: String) async {
        let dispatch = makeDispatch(
            handler: "ship", context: context, parentResults: ["reserve_inventory": ["reservation_id": "R"]], handlerConfig: ["carrier": "UPS"])
        let result = await executor.execute(dispatch, logger: testLogger)
        #expect(result.kind == .failed)
        #expect(result.errorKind == .permanent)
        #expect(result.errorMessage?.contains(expected) == true, "\(result.errorMessage ?? "")")
    }

    @Test func missingParentAndBadConfigNameTheirInput() async {
        let noParent = await executor.execute(makeDispatch(handler: "ship", context: order, handlerConfig: ["carrier": "UPS"]), logger: testLogger)
        #expect(noParent.errorKind == .permanent)
        #expect(noParent.errorMessage?.contains("parent_results.reserve_inventory: missing") == true, "\(noParent.errorMessage ?? "")")

        let badConfig = await executor.execute(
            makeDispatch(handler: "ship", context: order, parentResults: ["reserve_inventory": ["reservation_id": "R"]], handlerConfig: ["carrier": 7]),
            logger: testLogger)
        #expect(badConfig.errorKind == .permanent)
        #expect(badConfig.errorMessage?.contains("handler_config.carrier: expected String") == true, "\(badConfig.errorMessage ?? "")")
    }

    @Test(.timeLimit(.minutes(1)))
    func typedHandlersAreCancelledAtTheirTimeout() async {
        let result = await executor.execute(makeDispatch(handler: "sleeper", timeoutSeconds: 0.2), logger: testLogger)
        #expect(result.errorKind == .timeout)
    }

    @Test func timeRemainingCountsDownToTheDeadline() {
        let now = Date()
        let step = StepContext(
            dispatch: makeDispatch(timeoutSeconds: 30, now: now), logger: testLogger)
        #expect(step.timeRemaining > .seconds(28) && step.timeRemaining <= .seconds(30))
        let late = StepContext(dispatch: makeDispatch(timeoutSeconds: 1, now: now.addingTimeInterval(-10)), logger: testLogger)
        #expect(late.timeRemaining == .zero)
    }

    @Test func snakeCasedKeysForMessages() {
        #expect(StepValueCoding.snakeCased("orderId") == "order_id")
        #expect(StepValueCoding.snakeCased("orderID") == "order_id")
        #expect(StepValueCoding.snakeCased("sku") == "sku")
    }
}
