import Foundation
import OrderFulfillment
import TaskerWorkerApp

// The worker of the order-fulfillment application: same flags and environment as
// `tasker worker` (--amqp-url/AMQP_URL, --namespaces, --concurrency, --log-level, ...),
// plus PAYMENTS_URL for the payments service.
let paymentsURL = ProcessInfo.processInfo.environment["PAYMENTS_URL"] ?? "http://127.0.0.1:8089"
guard let payments = URL(string: paymentsURL) else { fatalError("PAYMENTS_URL is not a URL: \(paymentsURL)") }

await WorkerApp(
    handlers: OrderFulfillment.handlers(payments: PaymentsClient(baseURL: payments)),
    templates: [OrderFulfillment.templates],
    label: "order-worker"
).main()
