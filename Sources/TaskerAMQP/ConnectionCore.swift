import CRabbitMQ
import Glibc
import Logging
import CoreMetrics
import Synchronization

/// Metadata keys used in log messages.
enum AMQPLogKey {
    static let connection = "amqp.connection"
    static let channel = "amqp.channel"
    static let queue = "amqp.queue"
    static let exchange = "amqp.exchange"
    static let consumerTag = "amqp.consumer.tag"
    static let error = "amqp.error"
    static let attempt = "amqp.reconnect.attempt"
    static let delay = "amqp.reconnect.delay"
}

/// Counters and gauges reported through swift-metrics.
struct AMQPMetrics: Sendable {
    let published: Counter
    let confirmed: Counter
    let nacked: Counter
    let returned: Counter
    let delivered: Counter
    let acked: Counter
    let rejected: Counter
    let reconnects: Counter
    /// 1 while the connection is established, 0 while connecting, reconnecting or closed.
    let connected: Gauge
    /// Consumers running on the connection.
    let consumers: Gauge

    init(connectionName: String) {
        let dimensions = [("connection", connectionName)]
        published = Counter(label: "tasker.amqp.published", dimensions: dimensions)
        confirmed = Counter(label: "tasker.amqp.confirmed", dimensions: dimensions)
        nacked = Counter(label: "tasker.amqp.nacked", dimensions: dimensions)
        returned = Counter(label: "tasker.amqp.returned", dimensions: dimensions)
        delivered = Counter(label: "tasker.amqp.delivered", dimensions: dimensions)
        acked = Counter(label: "tasker.amqp.acked", dimensions: dimensions)
        rejected = Counter(label: "tasker.amqp.rejected", dimensions: dimensions)
        reconnects = Counter(label: "tasker.amqp.reconnects", dimensions: dimensions)
        connected = Gauge(label: "tasker.amqp.connected", dimensions: dimensions)
        consumers = Gauge(label: "tasker.amqp.consumers", dimensions: dimensions)
    }
}

/// A message to publish, with the continuation resumed once the broker confirmed it.
struct PublishRequest: Sendable {
    var exchange: String
    var routingKey: String
    var body: [UInt8]
    var properties: AMQPProperties
    var mandatory: Bool
    var continuation: CheckedContinuation<Void, any Error>
}

/// A batch of messages to publish, with the continuation resumed once each is confirmed or failed.
struct PublishBatchRequest: Sendable {
    var messages: [AMQPMessage]
    var continuation: CheckedContinuation<[Result<Void, AMQPError>], Never>
}

/// A consumer registration handed to the connection thread.
struct ConsumeRequest: Sendable {
    var queue: String
    var prefetch: UInt16
    var tag: String
    var stream: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation
    var continuation: CheckedContinuation<Void, any Error>
}

/// Work submitted by async callers to the thread that owns the C connection.
enum Command: Sendable {
    case declareExchange(AMQPExchange, CheckedContinuation<Void, any Error>)
    case declareQueue(AMQPQueue, CheckedContinuation<AMQPQueueInfo, any Error>)
    case queueInfo(String, CheckedContinuation<AMQPQueueInfo, any Error>)
    case bind(AMQPBinding, CheckedContinuation<Void, any Error>)
    case deleteQueue(String, CheckedContinuation<Void, any Error>)
    case deleteExchange(String, CheckedContinuation<Void, any Error>)
    case purgeQueue(String, CheckedContinuation<Int, any Error>)
    case publish(PublishRequest)
    case publishBatch(PublishBatchRequest)
    case consume(ConsumeRequest)
    case cancel(tag: String, CheckedContinuation<Void, Never>?)
    case ack(DeliveryReference, multiple: Bool)
    case nack(DeliveryReference, multiple: Bool, requeue: Bool)
    case reject(DeliveryReference, requeue: Bool)
    case close(CheckedContinuation<Void, Never>?)

    /// Whether `commands` send more than one frame set and none waits for a reply: only
    /// publishes and acknowledgements, which may be held back until the run is sent.
    static func worthCorking(_ commands: [Command]) -> Bool {
        var sends = 0
        for command in commands {
            switch command {
            case .publish, .ack, .nack, .reject: sends += 1
            case .publishBatch(let request): sends += request.messages.count
            default: return false
            }
        }
        return sends > 1
    }

    /// Completes the command with `error` without running it.
    func fail(_ error: AMQPError) {
        switch self {
        case .declareExchange(_, let c), .bind(_, let c), .deleteQueue(_, let c), .deleteExchange(_, let c):
            c.resume(throwing: error)
        case .declareQueue(_, let c), .queueInfo(_, let c): c.resume(throwing: error)
        case .purgeQueue(_, let c): c.resume(throwing: error)
        case .publish(let request): request.continuation.resume(throwing: error)
        case .publishBatch(let request):
            request.continuation.resume(returning: Array(repeating: .failure(error), count: request.messages.count))
        case .consume(let request):
            request.stream.finish(throwing: error)
            request.continuation.resume(throwing: error)
        case .cancel(_, let c): c?.resume()
        case .close(let c): c?.resume()
        case .ack, .nack, .reject: break
        }
    }
}

/// Identifies a delivery on the channel incarnation that received it.
struct DeliveryReference: Sendable, Hashable {
    var channel: UInt16
    var generation: UInt64
    var deliveryTag: UInt64
}

/// State shared between async callers and the connection thread.
///
/// Callers append ``Command``s under a mutex and write to an eventfd; the connection thread
/// polls that eventfd together with the socket. The C connection itself is never stored here.
final class ConnectionCore: Sendable {
    struct State: Sendable {
        var commands: [Command] = []
        var finished = false
        var sleeping = false
        var started = false
        var finishError: AMQPError?
        var finishWaiters: [CheckedContinuation<AMQPError?, Never>] = []
        var connected = false
        var reconnects = 0
        /// The node of the current (or last) connection.
        var endpoint: AMQPEndpoint?
        var consumers = 0
    }

    let configuration: AMQPConfiguration
    let logger: Logger
    let metrics: AMQPMetrics
    let name: String
    let wakeFD: Int32
    private let state = Mutex(State())

    init(configuration: AMQPConfiguration, logger: Logger) throws {
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else {
            throw AMQPError(code: .connectionFailed, message: "eventfd failed: errno \(errno)")
        }
        self.wakeFD = fd
        self.configuration = configuration
        self.name = configuration.connectionName ?? "tasker"
        var logger = logger
        logger[metadataKey: AMQPLogKey.connection] = "\(self.name)"
        self.logger = logger
        self.metrics = AMQPMetrics(connectionName: self.name)
        metrics.connected.record(0)
        configuration.monitor?.opened(ObjectIdentifier(self), name: self.name)
    }

    deinit { Glibc.close(wakeFD) }

    /// Queues `command` for the connection thread, or fails it if the connection is closed.
    func submit(_ command: Command) {
        let (accepted, needsWake) = state.withLock { state -> (Bool, Bool) in
            guard !state.finished else { return (false, false) }
            state.commands.append(command)
            // Only a sleeping thread needs the eventfd; an awake one takes the queue before sleeping.
            let sleeping = state.sleeping
            state.sleeping = false
            return (true, sleeping)
        }
        if accepted {
            if needsWake { wake() }
        } else {
            command.fail(AMQPError(code: .clientClosed, message: "the connection is closed"))
        }
    }

    func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    func drainWakeups() {
        var value: UInt64 = 0
        _ = Glibc.read(wakeFD, &value, 8)
    }

    func takeCommands() -> [Command] {
        state.withLock { state in
            let commands = state.commands
            state.commands.removeAll(keepingCapacity: true)
            return commands
        }
    }

    var hasCommands: Bool { state.withLock { !$0.commands.isEmpty } }

    /// Called by the connection thread before it polls: returns `false` (do not sleep) if
    /// commands are waiting, otherwise records that the next submit must write the eventfd.
    func prepareToSleep() -> Bool {
        state.withLock { state in
            guard state.commands.isEmpty else { return false }
            state.sleeping = true
            return true
        }
    }

    /// Called by the connection thread after it polled.
    func didWake() {
        state.withLock { $0.sleeping = false }
    }

    func requeueFront(_ commands: [Command]) {
        guard !commands.isEmpty else { return }
        state.withLock { $0.commands.insert(contentsOf: commands, at: 0) }
    }

    /// Marks the connection finished and returns the commands still queued.
    func finish(error: AMQPError?) -> [Command] {
        let (commands, waiters) = state.withLock { state in
            state.finished = true
            state.connected = false
            state.finishError = error
            let commands = state.commands
            let waiters = state.finishWaiters
            state.commands = []
            state.finishWaiters = []
            return (commands, waiters)
        }
        metrics.connected.record(0)
        configuration.monitor?.closed(ObjectIdentifier(self))
        for waiter in waiters { waiter.resume(returning: error) }
        return commands
    }

    /// Records that the connection thread was started; `false` if it already was.
    func markStarted() -> Bool {
        state.withLock { state in
            guard !state.started else { return false }
            state.started = true
            return true
        }
    }

    /// Waits until the connection thread has ended; returns the error that ended it, if any.
    func waitUntilFinished() async -> AMQPError? {
        await withCheckedContinuation { continuation in
            let finished = state.withLock { state -> (Bool, AMQPError?) in
                if state.finished { return (true, state.finishError) }
                state.finishWaiters.append(continuation)
                return (false, nil)
            }
            if finished.0 { continuation.resume(returning: finished.1) }
        }
    }

    func setConnected(_ connected: Bool, reconnected: Bool = false) {
        state.withLock {
            $0.connected = connected
            if reconnected { $0.reconnects += 1 }
        }
        metrics.connected.record(connected ? 1 : 0)
        configuration.monitor?.connectionChanged(ObjectIdentifier(self), connected: connected)
    }

    /// Counts a consumer that started (`+1`) or whose deliveries ended (`-1`).
    func consumerCountChanged(by delta: Int) {
        let count = state.withLock { state in
            state.consumers = max(0, state.consumers + delta)
            return state.consumers
        }
        metrics.consumers.record(count)
        configuration.monitor?.consumersChanged(ObjectIdentifier(self), count: count)
    }

    /// Records the node a connection was just opened to.
    func setEndpoint(_ endpoint: AMQPEndpoint) {
        state.withLock { $0.endpoint = endpoint }
    }

    var endpoint: AMQPEndpoint? { state.withLock { $0.endpoint } }
    var isConnected: Bool { state.withLock { $0.connected } }
    var reconnects: Int { state.withLock { $0.reconnects } }
    var isFinished: Bool { state.withLock { $0.finished } }
}
