import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small client of the example's payments service (`payments/payments_service.py`), on
/// Foundation's URLSession: no extra dependency.
public struct PaymentsClient: Sendable {
    /// What the service decided.
    public enum Outcome: Sendable, Equatable {
        case authorized(id: String)
        case declined(reason: String)
        case rateLimited(retryAfterSeconds: Double)
        case unavailable(status: Int)
    }

    public struct AuthorizationRequest: Codable, Sendable {
        public var orderId: String
        public var amountCents: Int
        public var currency: String
        public var token: String
    }

    struct Answer: Decodable {
        var authorizationId: String?
        var error: String?
    }

    public var baseURL: URL

    public init(baseURL: URL) {
        self.baseURL = baseURL
    }

    /// `POST /authorizations`, idempotent per order (`Idempotency-Key`). Network errors are
    /// thrown (a retryable failure for the step); `timeout` bounds the call.
    public func authorize(_ authorization: AuthorizationRequest, timeout: Duration) async throws -> Outcome {
        var request = URLRequest(url: baseURL.appendingPathComponent("authorizations"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(authorization.orderId, forHTTPHeaderField: "Idempotency-Key")
        request.timeoutInterval = max(0.1, min(Double(timeout.components.seconds), 5))
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        request.httpBody = try encoder.encode(authorization)

        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let answer = try? decoder.decode(Answer.self, from: data)
        switch status {
        case 200..<300:
            guard let id = answer?.authorizationId else { return .unavailable(status: status) }
            return .authorized(id: id)
        case 402:
            return .declined(reason: answer?.error ?? "declined")
        case 429:
            let retryAfter = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Retry-After").flatMap(Double.init) ?? 1
            return .rateLimited(retryAfterSeconds: retryAfter)
        default:
            return .unavailable(status: status)
        }
    }
}
