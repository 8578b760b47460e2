internal import Foundation
public import Logging
internal import Metrics
public import PostgresNIO
public import ServiceLifecycle
internal import TaskerAMQP
internal import TaskerCore
internal import TaskerPostgres
internal import TaskerWorker
internal import Synchronization

/// Turns task requests into running tasks.
///
/// Consumes `tasker.requests`; for each request: decodes it, finds the template (latest
/// version unless one is named), validates the context against `context_schema`, checks
/// identity, and in one transaction creates the task, starts it, enqueues its root steps and
/// writes the dispatches and events to the outbox; then publishes them and answers
/// `reply_to`. Rejections are announced (`task.request_rejected`) and answered with every
/// error; a body that is not a JSON request goes to the dead-letter queue with the reason.
/// The coordinator never stops on bad input.
public final class CoordinatorService: Service {
    let client: PostgresClient
    let configuration: PipelineConfiguration
    let logger: Logger
    let store: PipelineStore
    let templates: TemplateCache
    /// Namespaces whose worker queue this coordinator has declared.
    private let declaredNamespaces = Mutex<Set<String>>([])

    public init(client: PostgresClient, configuration: PipelineConfiguration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.store = PipelineStore(client: client, topology: configuration.topology, logger: logger)
        self.templates = TemplateCache(store: store.tasks, logger: logger)
    }

    public func run() async throws {
        try await templates.reload()
        let topology = configuration.topology
        try await AMQPConnection.withConnection(configuration: configuration.named("tasker-coordinator-publish"), logger: logger) { publisher in
            try await TaskerTopology.declare(on: publisher, topology: topology, namespaces: [])
            try await AMQPConnection.withConnection(configuration: configuration.named("tasker-coordinator-consume"), logger: logger) { consumer in
                let deliveries = try await consumer.consume(queue: topology.requestsQueue, prefetch: UInt16(clamping: configuration.batchSize))
                logger.info("coordinator started", metadata: ["amqp.queue": "\(topology.requestsQueue)"])
                await BoundedConsumption.run(deliveries, concurrency: configuration.batchSize, logger: logger) { delivery in
                    await self.handle(delivery, publisher: publisher)
                }
            }
        }
        logger.info("coordinator stopped")
    }

    func handle(_ delivery: AMQPDelivery, publisher: AMQPConnection) async {
        let outbox = OutboxPublisher(connection: publisher, store: store, logger: logger)
        do {
            let reply = try await process(delivery, publisher: publisher, outbox: outbox)
            if let reply, let replyTo = delivery.properties.replyTo, !replyTo.isEmpty {
                try await publisher.publish(
                    Array(try WireCoding.encode(reply)), exchange: "", routingKey: replyTo,
                    properties: AMQPProperties(
                        contentType: WireCoding.contentType, correlationID: delivery.properties.correlationID,
                        type: "task.request_reply", persistent: false,
                        headers: [WireCoding.schemaVersionHeader: .int(Int64(WireCoding.schemaVersion))]))
            }
            try delivery.ack()
        } catch {
            // Infrastructure trouble (database or broker): hand the request back for a retry.
            logger.warning("request not processed; requeued", metadata: [LogKeys.error: "\(String(reflecting: error))"])
            try? delivery.nack(requeue: true)
        }
    }

    /// Handles one request; returns the reply to send, if any.
    func process(_ delivery: AMQPDelivery, publisher: AMQPConnection, outbox: OutboxPublisher) async throws -> TaskRequestReply? {
        let body = Data(delivery.body)
        let request: TaskRequest
        do {
            request = try TaskRequest.decode(body)
        } catch {
            if (try? JSONValue.parse(body))?.objectValue == nil || body.count > TaskRequest.maxBodyBytes {
                // Not a JSON object at all: keep it, with the reason, on the dead-letter queue.
                try await DeadLetters.publish(
                    delivery, reason: error.errors.joined(separator: "; "), sourceQueue: configuration.topology.requestsQueue,
                    topology: configuration.topology, on: publisher)
                Counter(label: "tasker.coordinator.requests", dimensions: [("outcome", "dead_lettered")]).increment()
                logger.debug("undecodable request dead-lettered", metadata: [LogKeys.error: "\(error)"])
                return TaskRequestReply(status: .rejected, taskID: nil, errors: error.errors)
            }
            return try await reject(errors: error.errors, request: nil, publisher: publisher)
        }

        guard let template = try await templates.lookup(namespace: request.namespace, name: request.name, version: request.version) else {
            let version = request.version.map { "@\($0)" } ?? ""
            return try await reject(errors: ["unknown template \(request.namespace)/\(request.name)\(version)"], request: request, publisher: publisher)
        }
        // The namespace's worker queue must exist before its first dispatch, or the dispatch
        // would be unroutable until a worker for it starts.
        if declaredNamespaces.withLock({ !$0.contains(template.namespace) }) {
            try await TaskerTopology.declare(on: publisher, topology: configuration.topology, namespaces: [template.namespace])
            declaredNamespaces.withLock { _ = $0.insert(template.namespace) }
        }
        let plan: TaskPlan
        do {
            plan = try TaskPlanner.plan(request, template: template, makeID: { UUID() })
        } catch {
            return try await reject(errors: error.errors, request: request, publisher: publisher)
        }
        let start = try await store.startTask(plan, now: Date())
        await outbox.publish(start.outbox)
        let status: TaskRequestReply.Status = start.creation.duplicate ? .duplicate : .created
        Counter(label: "tasker.coordinator.requests", dimensions: [("outcome", status.rawValue)]).increment()
        logger.debug("task request handled", metadata: [LogKeys.taskID: "\(start.creation.taskID)", "tasker.request.status": "\(status)"])
        return TaskRequestReply(status: status, taskID: start.creation.taskID)
    }

    private func reject(errors: [String], request: TaskRequest?, publisher: AMQPConnection) async throws -> TaskRequestReply {
        var details: [String: JSONValue] = ["errors": .array(errors.map(JSONValue.string))]
        if let request { details["request"] = request.json }
        let event = LifecycleEvent(event: .taskRequestRejected, eventID: UUID(), occurredAt: Date(), taskID: nil, details: details)
        try await OutboxPublisher.publish(try OutboundMessage.event(event, topology: configuration.topology), on: publisher)
        Counter(label: "tasker.coordinator.requests", dimensions: [("outcome", "rejected")]).increment()
        logger.debug("task request rejected", metadata: ["tasker.request.errors": "\(errors)"])
        return TaskRequestReply(status: .rejected, taskID: nil, errors: errors)
    }
}
