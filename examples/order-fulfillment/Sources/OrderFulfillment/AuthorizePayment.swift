import TaskerWorkerApp

/// `authorize_payment`: asks the payments service to authorize the order's total.
///
/// How its answers map to the step's outcome (docs/worker.md, "Failures"):
/// declined → permanent failure (the task ends in error); rate limited → retry after the
/// service's `Retry-After`; unavailable or unreachable → retryable, with the step's backoff.
public struct AuthorizePayment: TypedStepHandler {
    public struct Parents: Decodable, Sendable {
        var validateOrder: ValidatedOrder
    }

    public struct Config: Decodable, Sendable {
        var currency: String
    }

    let payments: PaymentsClient

    public init(payments: PaymentsClient) {
        self.payments = payments
    }

    public func handle(_ step: TypedStep<Order, Parents, Config>) async throws -> Authorization {
        let total = step.parents.validateOrder.totalCents
        step.logger.info("authorizing payment", metadata: ["order.id": "\(step.context.orderId)", "attempt": "\(step.attempt)/\(step.maxAttempts)"])
        let request = PaymentsClient.AuthorizationRequest(
            orderId: step.context.orderId, amountCents: total, currency: step.config.currency, token: step.context.paymentToken)
        switch try await payments.authorize(request, timeout: step.timeRemaining) {
        case .authorized(let id):
            return Authorization(authorizationId: id, amountCents: total, currency: step.config.currency)
        case .declined(let reason):
            throw StepFailure.permanent("payment declined: \(reason)")
        case .rateLimited(let seconds):
            throw StepFailure.retryAfter(seconds: seconds, "payments service rate limited")
        case .unavailable(let status):
            throw StepFailure.retryable("payments service answered \(status)")
        }
    }
}
