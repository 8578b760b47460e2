internal import Hummingbird
internal import Logging
internal import TaskerCore
internal import TaskerWire

/// The dead-letter queue (`dlq:operate`): list with reasons, show one with its body, replay one
/// to the queue it came from, discard one. The same library as `tasker dlq` (``DeadLetterQueue``): browsing
/// returns every message to the queue.
struct DeadLetterRoutes: APIRouteCollection {
    let dependencies: APIDependencies

    func register(on v1: RouterGroup<APIRequestContext>) {
        let dlq = v1.group("dlq")
        dlq.get { request, context in try await list(request, context) }
        dlq.get("{message_id}") { request, context in try await show(context) }
        dlq.post("{message_id}/replay") { request, context in try await replay(context) }
        dlq.post("{message_id}/discard") { request, context in try await discard(context) }
    }

    /// The most messages a show or replay looks through for the id.
    static let searchLimit = 10_000

    func list(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.require(.dlqOperate)
        let query = try QueryReader(request, accepted: ["limit"])
        let limit = try query.integer("limit", in: 1...1_000, default: 100)
        let letters = try await dependencies.broker.withDeadLetterQueue("dead-letter list") { try await $0.list(limit: limit) }
        return JSONResponse.make(["messages": .array(letters.map { $0.json(body: false) })])
    }

    func show(_ context: APIRequestContext) async throws -> Response {
        _ = try context.require(.dlqOperate)
        let id = try RequestReading.text("message_id", context)
        let letters = try await dependencies.broker.withDeadLetterQueue("dead-letter show") { try await $0.list(limit: Self.searchLimit) }
        guard let letter = letters.first(where: { $0.messageID == id }) else { throw APIError.notFound("no dead-lettered message has id \(id)") }
        return JSONResponse.make(letter.json(body: true))
    }

    func replay(_ context: APIRequestContext) async throws -> Response {
        let letter = try await remove(context, operation: "replay") { queue, id in
            try await queue.replay(messageID: id, searchLimit: Self.searchLimit)
        }
        return JSONResponse.make(["message_id": .string(letter.messageID), "replayed_to": .string(letter.sourceQueue)])
    }

    /// Removes one message from the dead-letter queue for good (it is sent nowhere).
    func discard(_ context: APIRequestContext) async throws -> Response {
        let letter = try await remove(context, operation: "discard") { queue, id in
            try await queue.discard(messageID: id, searchLimit: Self.searchLimit)
        }
        return JSONResponse.make(["message_id": .string(letter.messageID), "discarded": .bool(true), "source_queue": .string(letter.sourceQueue)])
    }

    /// Takes the message named in the path off the dead-letter queue with `take` (replay or
    /// discard), logs who did it, and returns it; 404 when no such message is there.
    private func remove(
        _ context: APIRequestContext, operation: String,
        _ take: @escaping @Sendable (DeadLetterQueue, String) async throws -> DeadLetter?
    ) async throws -> DeadLetter {
        let principal = try context.require(.dlqOperate)
        let id = try RequestReading.text("message_id", context)
        let removed = try await dependencies.broker.withDeadLetterQueue("dead-letter \(operation)") { try await take($0, id) }
        guard let letter = removed else { throw APIError.notFound("no dead-lettered message has id \(id)") }
        context.logger.info(
            "dead-lettered message removed",
            metadata: [
                "tasker.dlq.operation": "\(operation)", "amqp.message_id": "\(letter.messageID)",
                "amqp.queue": "\(letter.sourceQueue)", "tasker.api.caller": "\(principal.name)",
            ])
        return letter
    }
}
