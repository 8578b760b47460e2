internal import Foundation
public import Logging
internal import Metrics
public import TaskerPostgres
public import ServiceLifecycle
internal import TaskerAMQP
internal import TaskerCore
internal import TaskerWire
internal import Synchronization
internal import Tracing

/// Turns task requests into running tasks.
///
/// Consumes `tasker.requests` in batches (whatever arrived while the previous batch ran, up to
/// ``PipelineConfiguration/batchSize``). For each request: decodes it, finds the template
/// (latest version unless one is named), validates the context against `context_schema`,
/// checks identity. The valid ones are created, started, their root steps enqueued and the
/// dispatches and events written to the outbox in one transaction per batch; then the outbox
/// is published and every request answered on its `reply_to`. Rejections are announced
/// (`task.request_rejected`) and answered with every error; a body that is not a JSON request
/// goes to the dead-letter queue with the reason. The coordinator never stops on bad input.
public final class CoordinatorService: Service, BootstrappedService {
    let bootstrap: ServiceBootstrap
    /// Validation, identity and task creation, shared with the HTTP API.
    let intake: TaskIntake

    public init(database: Database, configuration: PipelineConfiguration, logger: Logger) {
        self.bootstrap = ServiceBootstrap(role: "coordinator", database: database, configuration: configuration, logger: logger)
        self.intake = TaskIntake(store: bootstrap.store, configuration: configuration, logger: logger)
    }

    public func run() async throws {
        try await bootstrap.run(
            consuming: configuration.topology.requestsQueue, prefetch: configuration.batchPrefetch, prepare: { try await intake.templates.reload() }
        ) { wire, deliveries in
            await BatchedConsumption.run(
                deliveries, maxBatch: configuration.batchSize, lanes: configuration.concurrency, logger: logger
            ) { batch in
                await self.handle(batch, wire: wire)
            }
        }
    }

    /// A request that passed validation and is ready to be stored.
    struct PlannedRequest: Sendable {
        var delivery: AMQPDelivery
        var plan: TaskPlan
    }

    func handle(_ batch: [AMQPDelivery], wire: WirePublisher) async {
        var planned: [PlannedRequest] = []
        var answered: [(AMQPDelivery, TaskRequestReply)] = []
        for delivery in batch {
            do {
                switch try await prepare(delivery, wire: wire) {
                case .answered(let reply): answered.append((delivery, reply))
                case .planned(let plan): planned.append(PlannedRequest(delivery: delivery, plan: plan))
                }
            } catch {
                requeue(delivery, error: error)
            }
        }
        await reply(answered, wire: wire)
        await BatchFallback.run(planned, logger: logger) { requests in
            try await start(requests, wire: wire)
        } failed: { request, error in
            requeue(request.delivery, error: error)
        }
    }

    /// Stores and starts the planned requests in one transaction, publishes the outbox, answers
    /// and acknowledges every request.
    private func start(_ requests: [PlannedRequest], wire: WirePublisher) async throws {
        let began = ContinuousClock.now
        // One span per request, the root of its task's trace (or a child of the caller's span
        // when the request carries one); the task's first dispatches carry its context.
        let spans = requests.map { request in
            startSpan("tasker.task.request", context: WireTracing.context(from: request.delivery.properties.headers), ofKind: .consumer)
        }
        defer { for span in spans { span.end() } }
        let creations = try await intake.start(requests.map(\.plan), wire: wire, traceContexts: spans.map(\.context))
        for (span, creation) in zip(spans, creations) where span.isRecording {
            guard let creation else { continue }
            span.attributes["tasker.task.id"] = "\(creation.taskID)"
            span.attributes["tasker.request.status"] = creation.duplicate ? "duplicate" : "created"
        }
        var answered: [(AMQPDelivery, TaskRequestReply)] = []
        for (request, creation) in zip(requests, creations) {
            guard let creation else {
                // The template was removed since the cache saw it.
                answered.append((request.delivery, try await reject(
                    errors: ["template \(request.plan.template) is not registered"], request: nil, wire: wire)))
                continue
            }
            let status: TaskRequestReply.Status = creation.duplicate ? .duplicate : .created
            Counter(label: "tasker.coordinator.requests", dimensions: [("outcome", status.rawValue)]).increment()
            answered.append((request.delivery, TaskRequestReply(status: status, taskID: creation.taskID)))
        }
        await reply(answered, wire: wire)
        PipelineMetrics.batch(role: "coordinator", size: requests.count, started: began)
    }

    /// Answers each request on its `reply_to` (all in flight at once), then acknowledges it.
    /// A reply that cannot be published does not undo the work: the request is acknowledged
    /// anyway, and the caller can look the task up by its identity.
    private func reply(_ answered: [(AMQPDelivery, TaskRequestReply)], wire: WirePublisher) async {
        await withTaskGroup(of: Void.self) { group in
            for (delivery, reply) in answered {
                group.addTask {
                    if let replyTo = delivery.properties.replyTo, !replyTo.isEmpty {
                        do {
                            try await wire.reply(reply, to: replyTo, correlationID: delivery.properties.correlationID)
                        } catch {
                            self.logger.debug("reply not published", metadata: ["amqp.reply_to": "\(replyTo)", LogKeys.error: "\(error)"])
                        }
                    }
                    do {
                        try delivery.ack()
                    } catch {
                        self.logger.debug("acknowledgement failed", metadata: [LogKeys.error: "\(String(reflecting: error))"])
                    }
                }
            }
        }
    }

    private func requeue(_ delivery: AMQPDelivery, error: any Error) {
        // Infrastructure trouble (database or broker): hand the request back for a retry.
        logger.warning("request not processed; requeued", metadata: [LogKeys.error: "\(String(reflecting: error))"])
        try? delivery.nack(requeue: true)
    }

    /// What validation made of a request.
    enum Preparation: Sendable {
        /// Rejected or dead-lettered: answer with this.
        case answered(TaskRequestReply)
        /// Valid: store this plan.
        case planned(TaskPlan)
    }

    /// Decodes and validates one request; throws only on infrastructure trouble.
    func prepare(_ delivery: AMQPDelivery, wire: WirePublisher) async throws -> Preparation {
        let body = Data(delivery.body)
        let request: TaskRequest
        do {
            request = try TaskRequest.decode(body)
        } catch {
            if (try? JSONValue.parse(body))?.objectValue == nil || body.count > TaskRequest.maxBodyBytes {
                // Not a JSON object at all: keep it, with the reason, on the dead-letter queue.
                try await wire.deadLetter(
                    delivery, reason: error.errors.joined(separator: "; "), sourceQueue: configuration.topology.requestsQueue)
                logger.debug("undecodable request dead-lettered", metadata: [LogKeys.error: "\(error)"])
                return .answered(try await reject(
                    errors: error.errors, request: nil, message: delivery, outcome: "dead_lettered", wire: wire))
            }
            return .answered(try await reject(errors: error.errors, request: nil, message: delivery, wire: wire))
        }

        switch try await intake.plan(request, wire: wire) {
        case .success(let plan): return .planned(plan)
        case .failure(let rejection): return .answered(try await reject(errors: rejection.errors, request: request, wire: wire))
        }
    }

    /// Announces a rejection (`task.request_rejected`: the keys every event has, `task_id`
    /// null, the errors, the request when it could be read, and the message's id, size and
    /// whether it was dead-lettered) and returns the reply.
    private func reject(
        errors: [String], request: TaskRequest?, message: AMQPDelivery? = nil, outcome: String = "rejected",
        wire: WirePublisher
    ) async throws -> TaskRequestReply {
        var details: [String: JSONValue] = [:]
        if let message {
            details["message_id"] = message.properties.messageID.map(JSONValue.string) ?? .null
            details["bytes"] = .int(Int64(message.body.count))
            details["dead_lettered"] = .bool(outcome == "dead_lettered")
        }
        try await intake.announceRejection(errors: errors, request: request, details: details, wire: wire)
        Counter(label: "tasker.coordinator.requests", dimensions: [("outcome", outcome)]).increment()
        return TaskRequestReply(status: .rejected, taskID: nil, errors: errors)
    }
}
