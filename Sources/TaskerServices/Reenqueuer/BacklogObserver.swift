internal import Logging
internal import TaskerAMQP
internal import TaskerCore
internal import TaskerPostgres

/// Reads what piles up, for the metrics: the outbox rows not yet published (from PostgreSQL)
/// and every Tasker queue's ready messages and consumers (from the broker, by passive declare).
///
/// The reenqueuer runs it; with several reenqueuers each reports the same figures.
struct BacklogObserver: Sendable {
    let store: PostgresStore
    let connection: AMQPConnection
    let logger: Logger

    /// Observes every `seconds` until cancelled.
    func run(every seconds: Double) async {
        let interval = Duration.milliseconds(Int64(max(seconds, 0.1) * 1_000))
        while !Task.isCancelled {
            await observe()
            try? await Task.sleep(for: interval)
        }
    }

    /// One reading; failures are logged at debug and the reading is skipped.
    func observe() async {
        do {
            PipelineMetrics.outbox(try await store.outboxBacklog())
        } catch {
            logger.debug("outbox backlog not read", metadata: [LogKeys.error: "\(String(reflecting: error))"])
        }
        let topology = store.topology
        var queues = [topology.requestsQueue, topology.resultsQueue, topology.reenqueueQueue, topology.deadLetterQueue]
        if let namespaces = try? await store.templateNamespaces() {
            queues += namespaces.map { topology.stepsQueue(namespace: $0) }
        }
        for queue in queues {
            do {
                let info = try await connection.queueInfo(queue)
                PipelineMetrics.queue(queue, messages: info.messageCount, consumers: info.consumerCount)
            } catch {
                // A namespace whose worker queue nobody declared yet: nothing to report.
                logger.debug("queue not read", metadata: ["amqp.queue": "\(queue)", LogKeys.error: "\(error)"])
            }
        }
    }
}
