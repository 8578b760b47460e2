internal import Foundation
internal import Metrics
internal import TaskerCore
internal import TaskerPostgres

/// The orchestration services' swift-metrics instruments, in one place so their names stay
/// stable (each is listed in docs/operations.md, "Metrics", with its Prometheus name).
enum PipelineMetrics {
    /// Creates a service's counters of rare events at zero, so their series exist (and dashboards
    /// show 0, not "no data") before the first one: retries, publish failures, dead letters.
    static func prime(consuming queue: String) {
        Counter(label: "tasker.retries.scheduled").increment(by: 0)
        Counter(label: "tasker.outbox.publish_failures").increment(by: 0)
        Counter(label: "tasker.dead_letters", dimensions: [("queue", queue)]).increment(by: 0)
    }

    /// Counts what an outbox publish delivered to the broker: step dispatches by namespace,
    /// lifecycle events by name, retries scheduled and tasks finished by outcome.
    static func published(_ messages: [OutboundMessage], stepsExchange: String) {
        var dispatches: [String: Int] = [:]
        var events: [String: Int] = [:]
        for message in messages {
            if message.exchange == stepsExchange {
                dispatches[message.routingKey, default: 0] += 1
            } else {
                events[message.type, default: 0] += 1
            }
        }
        for (namespace, count) in dispatches {
            Counter(label: "tasker.steps.dispatched", dimensions: [("namespace", namespace)]).increment(by: count)
        }
        for (event, count) in events {
            Counter(label: "tasker.events.published", dimensions: [("event", event)]).increment(by: count)
            if event == LifecycleEventName.stepRetryScheduled.rawValue {
                Counter(label: "tasker.retries.scheduled").increment(by: count)
            }
            if let outcome = finishedOutcomes[event] {
                Counter(label: "tasker.tasks.finished", dimensions: [("outcome", outcome)]).increment(by: count)
            }
        }
    }

    /// Task events that end a task, and the `outcome` label each counts under.
    static let finishedOutcomes: [String: String] = [
        LifecycleEventName.taskCompleted.rawValue: "completed",
        LifecycleEventName.taskFailed.rawValue: "failed",
        LifecycleEventName.taskCancelled.rawValue: "cancelled",
        LifecycleEventName.taskResolvedManually.rawValue: "resolved_manually",
    ]

    /// The `outcome` label of a recorded step report: `started`, `completed` or `failed`.
    static func outcome(of kind: StepResultMessage.Kind) -> String {
        kind.rawValue.hasPrefix("step.") ? String(kind.rawValue.dropFirst("step.".count)) : kind.rawValue
    }

    /// Outbox messages whose publish failed (their rows are left for the relay).
    static func publishFailed(_ count: Int) {
        guard count > 0 else { return }
        Counter(label: "tasker.outbox.publish_failures").increment(by: count)
    }

    /// One batch handled by `role` (`coordinator`, `finalizer`): its size and how long it took.
    static func batch(role: String, size: Int, started: ContinuousClock.Instant) {
        Recorder(label: "tasker.\(role).batch_size").record(size)
        Timer(label: "tasker.\(role).batch.duration").record(duration: ContinuousClock.now - started)
    }

    /// How long a step report waited between the worker and its recording (clocks of two hosts).
    static func resultLatency(occurredAt: Date, recordedAt: Date) {
        let seconds = max(0, recordedAt.timeIntervalSince(occurredAt))
        Timer(label: "tasker.finalizer.result.latency").recordNanoseconds(Int64(seconds * 1_000_000_000))
    }

    /// The outbox of this installation not yet published.
    static func outbox(_ backlog: PostgresStore.OutboxBacklog) {
        Gauge(label: "tasker.outbox.backlog").record(backlog.rows)
        Gauge(label: "tasker.outbox.backlog_messages").record(backlog.messages)
        Gauge(label: "tasker.outbox.oldest_age_seconds").record(backlog.oldestAgeSeconds)
    }

    /// A queue's ready messages and consumers, read from the broker.
    static func queue(_ name: String, messages: Int, consumers: Int) {
        Gauge(label: "tasker.queue.messages", dimensions: [("queue", name)]).record(messages)
        Gauge(label: "tasker.queue.consumers", dimensions: [("queue", name)]).record(consumers)
    }

    /// Steps the sweeper acted on (failed as timed out, or dispatched again) and outbox rows the relay republished.
    static func maintenance(swept: Int, relayed: Int) {
        if swept > 0 { Counter(label: "tasker.sweeper.actions").increment(by: swept) }
        if relayed > 0 { Counter(label: "tasker.outbox.relayed").increment(by: relayed) }
    }
}
