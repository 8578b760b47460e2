import Foundation
public import TaskerAMQP
public import TaskerCore

extension WorkerService {
    /// How a ``WorkerService`` connects, what it consumes and how much it runs at once.
    ///
    /// ```swift
    /// var configuration = WorkerService.Configuration(amqp: try AMQPConfiguration(url: url))
    /// configuration.namespaces = ["ecommerce"]
    /// configuration.concurrency = 32
    /// ```
    public struct Configuration: Sendable {
        /// The broker to connect to. The worker opens two connections with it, one for
        /// consuming and one for publishing; their names get ` consume` / ` publish` appended.
        public var amqp: AMQPConfiguration
        /// Exchange and queue names (default prefix `tasker`).
        public var topology: WireTopology
        /// The template namespaces whose steps this worker runs; one consumer per namespace.
        /// Default `["default"]`.
        public var namespaces: [String]
        /// The maximum number of steps running at once, across all namespaces (default 16).
        public var concurrency: Int
        /// How many unacknowledged dispatches each consumer may hold: the steps running and
        /// those waiting for a slot. Default (nil): ``defaultPrefetch(concurrency:)``, a few more
        /// than ``concurrency``, so a slot that frees up starts its next step at once instead of
        /// waiting a broker round trip for it. Set it to ``concurrency`` for long steps, so no
        /// dispatch waits at a busy worker while another one is idle.
        public var prefetch: Int?
        /// Reported as `worker_id` with every result (default `hostname:pid`).
        public var workerID: String
        /// How long a step runs before the worker reports `step.started` (default 100 ms). A step
        /// that finishes sooner is reported once, by its result, which carries `started_at`:
        /// the finalizer records the same `in_progress` transition, with one message and one
        /// transaction less. Zero reports every start at once.
        public var startedReportDelay: Duration
        /// The most step results one message to the results exchange carries (default 32). While
        /// a message waits for the broker's confirm, the results that finish meanwhile are sent
        /// together in the next one (`step.results`, docs/wire-protocol.md); an idle worker sends
        /// each alone. 1 sends every result alone, without waiting for the one before it.
        public var resultBatchSize: Int

        /// Creates a configuration; every knob but the broker has a default.
        public init(
            amqp: AMQPConfiguration,
            topology: WireTopology = WireTopology(),
            namespaces: [String] = ["default"],
            concurrency: Int = 16,
            workerID: String = WorkerService.defaultWorkerID,
            startedReportDelay: Duration = .milliseconds(100),
            resultBatchSize: Int = 32
        ) {
            self.startedReportDelay = startedReportDelay
            self.resultBatchSize = resultBatchSize
            self.amqp = amqp
            self.topology = topology
            self.namespaces = namespaces
            self.concurrency = concurrency
            self.workerID = workerID
        }
    }

    /// The prefetch used when ``Configuration/prefetch`` is not set: `concurrency` plus a
    /// quarter of it, at least one more.
    public static func defaultPrefetch(concurrency: Int) -> Int { concurrency + max(1, concurrency / 4) }

    /// `hostname:pid` of this process.
    public static var defaultWorkerID: String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }
}
