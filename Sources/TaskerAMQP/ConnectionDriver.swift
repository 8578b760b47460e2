import Foundation
import Glibc
import Logging

/// Runs on the connection's dedicated thread and owns the ``CConnection``.
///
/// Nothing in this class is shared: it is created on the thread, used only there, and talks to
/// async callers through ``ConnectionCore`` (commands in) and continuations / streams (results
/// out). It is the thin loop that ties the parts together: ``CConnection`` makes the C calls,
/// and the bookkeeping lives in pure values (``PublishConfirms``, ``ConsumerAckBatcher``,
/// ``ConsumerChannels``, ``ReconnectBackoff``, ``RecordedTopology``). Its other files:
/// `+Lifecycle` (connect, reconnect, loss, close), `+Commands` (executing ``Command``s) and
/// `+Events` (frames from the broker). The stored properties are internal only for those
/// extensions.
final class ConnectionDriver {
    /// Header that carries a `mandatory` message's delivery tag, to match its basic.return.
    static let publishSeqHeader = "x-tasker-publish-seq"

    /// A registered consumer; it survives reconnects and is re-registered on a new channel.
    final class Consumer {
        let tag: String
        let queue: String
        let prefetch: UInt16
        let stream: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation
        /// The channel it consumes on now; 0 while it has none.
        var channel: UInt16 = 0
        /// The generation of that channel incarnation (see ``ConsumerChannels``).
        var generation: UInt64 = 0
        /// Unsettled deliveries and queued acks on that channel.
        var acks = ConsumerAckBatcher()

        init(tag: String, queue: String, prefetch: UInt16, stream: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation) {
            self.tag = tag
            self.queue = queue
            self.prefetch = prefetch
            self.stream = stream
        }
    }

    let core: ConnectionCore
    let configuration: AMQPConfiguration
    let logger: Logger
    /// The librabbitmq connection; `nil` while disconnected.
    var connection: CConnection?

    /// Publishes on the publish channel awaiting their confirm.
    var confirms = PublishConfirms<ConfirmTarget>()
    /// Consumers by tag, and their channels.
    var consumers: [String: Consumer] = [:]
    var channels = ConsumerChannels<Consumer>()
    /// Consumer channels with acks queued since the last flush.
    var channelsWithPendingAcks: Set<UInt16> = []
    /// Topology recorded for re-declaration after a reconnect.
    var topology = RecordedTopology()

    var closeRequests: [CheckedContinuation<Void, Never>?] = []
    var everConnected = false
    /// The endpoint (``AMQPConfiguration/endpoints``) the next connection attempt tries first.
    var endpointIndex = 0

    private init(core: ConnectionCore) {
        self.core = core
        self.configuration = core.configuration
        self.logger = core.logger
    }

    /// Starts the connection thread. `startup` is resumed once the first connection attempt
    /// succeeded (or failed: then the thread ends). Without `startup`, a failed first attempt is
    /// retried like a lost connection.
    static func start(core: ConnectionCore, startup: CheckedContinuation<Void, any Error>?) {
        let thread = Thread {
            let driver = ConnectionDriver(core: core)
            driver.run(startup: startup)
        }
        thread.name = "amqp-\(core.name)"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// The connection, or ``ConnectionLost`` if there is none.
    var live: CConnection {
        get throws {
            guard let connection else {
                throw ConnectionLost(error: AMQPError(code: .connectionClosed, message: "not connected"))
            }
            return connection
        }
    }

    // MARK: - Main loop

    private func run(startup: CheckedContinuation<Void, any Error>?) {
        do {
            try connect()
            everConnected = true
            core.setConnected(true)
            startup?.resume()
        } catch {
            let error = (error as? AMQPError) ?? AMQPError(code: .connectionFailed, message: "\(error)")
            logger.debug("amqp connect failed", metadata: [AMQPLogKey.error: "\(error)"])
            destroyConnection()
            if let startup {
                teardown(error)
                startup.resume(throwing: error)
                return
            }
        }

        while true {
            // No local reference to the connection: releasing it (on a loss) must destroy it at once.
            if connection == nil {
                if !reconnect() { break }
                continue
            }
            do {
                try processCommands()
                try readFrames(limit: 256)
                if !closeRequests.isEmpty {
                    gracefulClose()
                    break
                }
                if core.hasCommands || connection?.hasBufferedInput == true { continue }
                waitForActivity(timeoutMilliseconds: pollTimeoutMilliseconds)
            } catch let lost as ConnectionLost {
                connectionLost(lost.error)
            } catch {
                connectionLost(AMQPError(code: .protocolError, message: "\(error)"))
            }
        }
    }

    /// Half the heartbeat, between 50 and 500 ms, so heartbeats are serviced while idle.
    private var pollTimeoutMilliseconds: Int32 {
        let heartbeat = configuration.heartbeat.seconds
        guard heartbeat > 0 else { return 500 }
        return Int32(max(50, min(500, heartbeat * 1000 / 2)))
    }

    /// Polls the wake eventfd and the socket, unless commands are already waiting.
    func waitForActivity(timeoutMilliseconds: Int32) {
        guard core.prepareToSleep() else { return }
        defer { core.didWake() }
        let socketFD = connection?.socketFD ?? -1
        var fds = [
            pollfd(fd: core.wakeFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0),
        ]
        let count: nfds_t = socketFD >= 0 ? 2 : 1
        _ = poll(&fds, count, timeoutMilliseconds)
        if fds[0].revents & Int16(POLLIN) != 0 { core.drainWakeups() }
    }

    /// Executes the queued commands. On a connection loss, the command that hit it fails and
    /// the ones after it go back to the front of the queue for after the reconnect.
    func processCommands() throws {
        let commands = core.takeCommands()
        // A run of publishes and acknowledgements leaves in full segments instead of one segment
        // per frame: fewer sends here, fewer wake-ups of the broker's reader. A command that waits
        // for the broker's reply is never sent corked.
        let corked = Command.worthCorking(commands)
        if corked { connection?.setCorked(true) }
        defer { if corked { connection?.setCorked(false) } }
        for (index, command) in commands.enumerated() {
            do {
                // Acks queued so far go out before anything that is not itself a single ack.
                if case .ack(_, multiple: false) = command {} else { try flushAcks() }
                try execute(command)
            } catch let lost as ConnectionLost {
                if !lost.commandHandled { command.fail(lost.error) }
                core.requeueFront(Array(commands[(index + 1)...]))
                throw lost
            }
        }
        try flushAcks()
    }

    /// Sends the acknowledgements collected from a batch of commands, as
    /// ``ConsumerAckBatcher/takeAcks()`` coalesced them.
    func flushAcks() throws {
        guard !channelsWithPendingAcks.isEmpty else { return }
        let pending = channelsWithPendingAcks
        channelsWithPendingAcks = []
        for channel in pending {
            guard let consumer = channels.owner(of: channel), let acks = consumer.acks.takeAcks() else { continue }
            let connection = try live
            if let last = acks.multipleUpTo {
                try connection.ack(channel: channel, deliveryTag: last, multiple: true)
            }
            for tag in acks.single {
                try connection.ack(channel: channel, deliveryTag: tag, multiple: false)
            }
        }
    }
}
