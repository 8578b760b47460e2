import Foundation
import OrderFulfillment
import TaskerWorkerApp
import Testing

/// Handlers tested without a broker: through `StepExecutor`, the way the worker runs them.
@Suite struct OrderFulfillmentTests {
    let handlers = OrderFulfillment.handlers(payments: PaymentsClient(baseURL: URL(string: "http://127.0.0.1:9")!))
    let order: JSONValue = [
        "order_id": "A-1", "customer_email": "ada@example.com", "payment_token": "tok_ok",
        "items": [["sku": "tea", "quantity": 2], ["sku": "kettle", "quantity": 1]],
    ]

    func dispatch(_ handler: String, context: JSONValue, parents: [String: JSONValue] = [:], config: JSONValue) -> StepDispatch {
        StepDispatch(
            taskID: UUID(), stepID: UUID(), stepName: handler, handler: handler, namespace: "orders",
            templateName: "order_fulfillment", templateVersion: "1.0.0", attempt: 1, maxAttempts: 1,
            context: context, parentResults: parents, handlerConfig: config, timeoutSeconds: 5,
            deadline: Date().addingTimeInterval(5), dispatchedAt: Date())
    }

    @Test func everyTemplateStepHasAHandler() throws {
        let templates = try TemplateLoader().loadDirectory(OrderFulfillment.templates).map { try $0.result.get() }
        #expect(!templates.isEmpty)
        #expect(handlers.missingHandlers(in: templates, namespaces: ["orders"]).isEmpty)
    }

    @Test func validateOrderPricesTheOrder() async {
        let config: JSONValue = ["max_quantity": 10, "prices_cents": ["tea": 450, "kettle": 3900]]
        let result = await StepExecutor(registry: handlers, workerID: "test")
            .execute(dispatch("validate_order", context: order, config: config), logger: Logger(label: "test"))
        #expect(result.results == ["order_id": "A-1", "total_cents": 4800, "item_count": 3])
    }

    @Test func anUnknownSkuFailsPermanently() async {
        let config: JSONValue = ["max_quantity": 10, "prices_cents": ["tea": 450]]
        let result = await StepExecutor(registry: handlers, workerID: "test")
            .execute(dispatch("validate_order", context: order, config: config), logger: Logger(label: "test"))
        #expect(result.errorKind == .permanent)
        #expect(result.errorMessage == "unknown sku 'kettle'")
    }

    @Test func shipOrderReadsBothParents() async {
        let parents: [String: JSONValue] = [
            "reserve_inventory": ["reservation_id": "res-1", "warehouse": "ams-1"],
            "authorize_payment": ["authorization_id": "auth-1", "amount_cents": 4800, "currency": "EUR"],
        ]
        let result = await StepExecutor(registry: handlers, workerID: "test")
            .execute(dispatch("ship_order", context: order, parents: parents, config: ["carrier": "DHL", "service_level": "express"]),
                     logger: Logger(label: "test"))
        #expect(result.results == ["tracking_number": "DHL-A-1-ams-1", "carrier": "DHL", "estimated_days": 1])
    }
}
