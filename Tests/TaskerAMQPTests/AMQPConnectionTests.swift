import Foundation
import ServiceLifecycle
import ServiceLifecycleTestKit
import TaskerAMQP
import TaskerTestSupport
import Testing

/// Integration tests against the real broker (`AMQP_URL`).
///
/// The suite is serialized because one test restarts the RabbitMQ application, which would
/// disturb any AMQP test running at the same time.
@Suite("AMQP against RabbitMQ", .serialized)
struct AMQPConnectionTests {
    @Test("URL parsing")
    func parsesURL() throws {
        let configuration = try AMQPConfiguration(url: "amqps://u%40x:p%3Aw@broker.example:5999/%2fprod")
        #expect(configuration.host == "broker.example")
        #expect(configuration.port == 5999)
        #expect(configuration.username == "u@x")
        #expect(configuration.password == "p:w")
        #expect(configuration.virtualHost == "/prod")
        #expect(configuration.tls != nil)
        let plain = try AMQPConfiguration(url: "amqp://localhost")
        #expect(plain.port == 5672 && plain.virtualHost == "/" && plain.tls == nil)
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "http://localhost") }
    }

    @Test("reconnect backoff grows exponentially, is capped and jittered")
    func backoff() {
        let policy = AMQPConfiguration.Reconnect(initialDelay: .milliseconds(100), maxDelay: .seconds(2), multiplier: 2, jitter: 0.5)
        #expect(policy.delay(attempt: 0, random: 0) == .milliseconds(100))
        #expect(policy.delay(attempt: 3, random: 0) == .milliseconds(800))
        #expect(policy.delay(attempt: 10, random: 0) == .seconds(2))
        #expect(policy.delay(attempt: 10, random: 1) == .seconds(1))
        #expect(policy.delay(attempt: 1000, random: 0.5) == .milliseconds(1500))
    }

    @Test("connect failure is reported", .timeLimit(.minutes(1)))
    func connectFailure() async throws {
        var configuration = try AMQPConfiguration(url: "amqp://tasker:tasker@127.0.0.1:1/%2f")
        configuration.connectTimeout = .seconds(2)
        await #expect(throws: AMQPError.self) {
            try await AMQPConnection.withConnection(configuration: configuration, logger: testLogger) { _ in }
        }
    }

    @Test(
        "10,000 persistent messages with confirms and acks",
        .timeLimit(.minutes(1)),
        .serialized,
        arguments: [AMQPQueue.QueueType.classic, .quorum]
    )
    func publishAndConsume(queueType: AMQPQueue.QueueType) async throws {
        let queue = uniqueName() + ".\(queueType)"
        let count = 10_000
        try await withTestConnection(name: "publisher") { publisher in
            try await publisher.declare(AMQPQueue(name: queue, type: queueType))
            let received = try await withTestConnection(name: "consumer") { consumer in
                let deliveries = try await consumer.consume(queue: queue, prefetch: 200)
                async let confirmed = publishMessages(publisher, queue: queue, count: count)
                var seen = Set<Int>()
                var duplicates = 0
                for try await delivery in deliveries {
                    let index = Int(delivery.properties.messageID ?? "") ?? -1
                    #expect(delivery.properties.persistent)
                    if !seen.insert(index).inserted && !delivery.isRedelivered { duplicates += 1 }
                    try delivery.ack()
                    if seen.count == count { break }
                }
                #expect(try await confirmed.count == count)
                #expect(duplicates == 0)
                return seen
            }
            #expect(received == Set(0..<count))
            let info = try await publisher.queueInfo(queue)
            #expect(info.messageCount == 0)
            #expect(info.consumerCount == 0)
            try await publisher.deleteQueue(queue)
        }
    }

    @Test("message properties round-trip", .timeLimit(.minutes(1)))
    func properties() async throws {
        let queue = uniqueName()
        try await withTestConnection { connection in
            try await connection.declare(AMQPQueue(name: queue, durable: false, autoDelete: false))
            let properties = AMQPProperties(
                contentType: "application/json", messageID: "m-1", correlationID: "c-1", replyTo: "replies",
                type: "task.created", timestamp: 1_700_000_000, persistent: true, expiration: "60000", priority: 3,
                headers: ["tenant": "acme", "attempt": 2]
            )
            try await connection.publish(Array("{}".utf8), routingKey: queue, properties: properties)
            let consumer = try await connection.consume(queue: queue, prefetch: 1)
            var iterator = consumer.makeAsyncIterator()
            let delivery = try #require(try await iterator.next())
            #expect(delivery.body == Array("{}".utf8))
            #expect(delivery.properties == properties)
            #expect(delivery.properties.stringHeaders == ["tenant": "acme"])
            #expect(!delivery.isRedelivered)
            #expect(delivery.routingKey == queue)
            try delivery.ack()
            await consumer.cancel()
            #expect(try await iterator.next() == nil)
            try await connection.deleteQueue(queue)
        }
    }

    @Test("nack/reject without requeue dead-letters; with requeue redelivers", .timeLimit(.minutes(1)))
    func deadLetteringAndRequeue() async throws {
        let name = uniqueName()
        let work = name + ".work"
        let dlx = name + ".dlx"
        let dlq = name + ".dlq"
        try await withTestConnection { connection in
            try await connection.declare(
                exchanges: [AMQPExchange(name: dlx, kind: .direct)],
                queues: [
                    AMQPQueue(name: dlq),
                    AMQPQueue(name: work, deadLetterExchange: dlx, deadLetterRoutingKey: "dead"),
                ],
                bindings: [AMQPBinding(queue: dlq, exchange: dlx, routingKey: "dead")]
            )
            for id in ["reject", "nack", "requeue"] {
                try await connection.publish(Array(id.utf8), routingKey: work, properties: AMQPProperties(messageID: id))
            }
            let consumer = try await connection.consume(queue: work, prefetch: 10)
            var redelivered = false
            for try await delivery in consumer {
                switch (delivery.properties.messageID, delivery.isRedelivered) {
                case ("reject", _): try delivery.reject(requeue: false)
                case ("nack", _): try delivery.nack(requeue: false)
                case ("requeue", false): try delivery.nack(requeue: true)
                case ("requeue", true):
                    redelivered = true
                    try delivery.ack()
                default: Issue.record("unexpected delivery \(String(describing: delivery.properties.messageID))")
                }
                if redelivered { break }
            }
            #expect(redelivered)
            await consumer.cancel()

            let deadLetters = try await connection.consume(queue: dlq, prefetch: 10)
            var reasons: [String: AMQPDeath] = [:]
            for try await delivery in deadLetters {
                let death = try #require(delivery.deaths.first)
                reasons[delivery.properties.messageID ?? ""] = death
                try delivery.ack()
                if reasons.count == 2 { break }
            }
            await deadLetters.cancel()
            #expect(reasons["reject"]?.reason == "rejected")
            #expect(reasons["nack"]?.reason == "rejected")
            #expect(reasons["reject"]?.queue == work)
            #expect(reasons["nack"]?.count == 1)
            #expect(try await connection.queueInfo(work).messageCount == 0)
            try await connection.deleteQueue(work)
            try await connection.deleteQueue(dlq)
            try await connection.deleteExchange(dlx)
        }
    }

    @Test("an unroutable mandatory publish fails", .timeLimit(.minutes(1)))
    func unroutable() async throws {
        let name = uniqueName()
        let exchange = name + ".x"
        let queue = name + ".q"
        try await withTestConnection { connection in
            try await connection.declare(
                exchanges: [AMQPExchange(name: exchange, kind: .topic)],
                queues: [AMQPQueue(name: queue)],
                bindings: [AMQPBinding(queue: queue, exchange: exchange, routingKey: "routed.#")]
            )
            // Routable and unroutable publishes in flight together: only the unroutable ones fail.
            try await withThrowingTaskGroup(of: (String, AMQPError?).self) { group in
                for index in 0..<20 {
                    let key = index.isMultiple(of: 2) ? "routed.\(index)" : "nowhere.\(index)"
                    group.addTask {
                        do {
                            try await connection.publish(Array("x".utf8), exchange: exchange, routingKey: key, mandatory: true)
                            return (key, nil)
                        } catch let error as AMQPError {
                            return (key, error)
                        }
                    }
                }
                for try await (key, error) in group {
                    if key.hasPrefix("routed") {
                        #expect(error == nil, "\(key): \(String(describing: error))")
                    } else {
                        #expect(error?.code == .unroutable, "\(key)")
                        #expect(error?.replyCode == 312)
                        #expect(error?.isRetryable == false)
                    }
                }
            }
            #expect(try await connection.queueInfo(queue).messageCount == 10)
            // Without `mandatory` an unroutable message is confirmed (and dropped by the broker).
            try await connection.publish(Array("x".utf8), exchange: exchange, routingKey: "nowhere")
            try await connection.deleteQueue(queue)
            try await connection.deleteExchange(exchange)
        }
    }

    @Test("runs as a Service until graceful shutdown", .timeLimit(.minutes(1)))
    func runsAsService() async throws {
        let connection = try AMQPConnection(configuration: testAMQPConfiguration(name: "service"), logger: testLogger)
        let queue = uniqueName()
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await connection.run() }
                // Operations issued right away wait for the first connection.
                try await connection.declare(AMQPQueue(name: queue, durable: false))
                try await connection.publish(Array("x".utf8), routingKey: queue)
                #expect(try await connection.queueInfo(queue).messageCount == 1)
                try await connection.deleteQueue(queue)
                #expect(connection.reconnectCount == 0)
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        let error = await #expect(throws: AMQPError.self) { try await connection.publish(Array("x".utf8), routingKey: queue) }
        #expect(error?.code == .clientClosed)
    }

    @Test("batch publish reports one result per message", .timeLimit(.minutes(1)))
    func batchPublish() async throws {
        let queue = uniqueName()
        try await withTestConnection { connection in
            try await connection.declare(AMQPQueue(name: queue, type: .quorum))
            var messages = (0..<1000).map { AMQPMessage(body: Array("\($0)".utf8), routingKey: queue, mandatory: true) }
            messages[500].routingKey = queue + ".nowhere"
            let results = await connection.publish(contentsOf: messages)
            #expect(results.count == 1000)
            for (index, result) in results.enumerated() {
                if index == 500 {
                    #expect(throws: AMQPError.self) { try result.get() }
                    if case .failure(let error) = result { #expect(error.code == .unroutable) }
                } else {
                    #expect(throws: Never.self) { try result.get() }
                }
            }
            #expect(try await connection.queueInfo(queue).messageCount == 999)
            #expect(await connection.publish(contentsOf: []).isEmpty)
            try await connection.deleteQueue(queue)
        }
    }

    /// A run of publishes is sent corked (`TCP_CORK`): the kernel holds a partial segment for up
    /// to 200 ms unless the run uncorks it. Twenty small messages fit in one segment, so if the
    /// run's end did not send them, no attempt could be confirmed in under 200 ms.
    @Test("a corked run of publishes is sent when the run ends, and arrives whole and in order", .timeLimit(.minutes(1)))
    func corkedRunIsSentAtOnce() async throws {
        let queue = uniqueName()
        try await withTestConnection { connection in
            try await connection.declare(AMQPQueue(name: queue, durable: false, autoDelete: false))
            let consumer = try await connection.consume(queue: queue, prefetch: 100)
            var iterator = consumer.makeAsyncIterator()
            var fastest = Duration.seconds(60)
            for attempt in 0..<5 {
                let messages = (0..<20).map { AMQPMessage(body: Array("\(attempt).\($0)".utf8), routingKey: queue) }
                let started = ContinuousClock.now
                let results = await connection.publish(contentsOf: messages)
                fastest = min(fastest, ContinuousClock.now - started)
                #expect(results.count == 20)
                for result in results { #expect(throws: Never.self) { try result.get() } }
                for index in 0..<20 {
                    let delivery = try #require(try await iterator.next())
                    #expect(String(decoding: delivery.body, as: UTF8.self) == "\(attempt).\(index)")
                    try delivery.ack()
                }
            }
            #expect(fastest < .milliseconds(150), "a corked run waited for the kernel's cork timer: \(fastest)")
            await consumer.cancel()
            try await connection.deleteQueue(queue)
        }
    }

    @Test("a publish to a missing exchange fails and the connection keeps working", .timeLimit(.minutes(1)))
    func publishToMissingExchange() async throws {
        let queue = uniqueName()
        try await withTestConnection { connection in
            try await connection.declare(AMQPQueue(name: queue, durable: false))
            let error = await #expect(throws: AMQPError.self) {
                try await connection.publish(Array("x".utf8), exchange: queue + ".missing", routingKey: "k")
            }
            #expect(error?.code == .channelClosed)
            #expect(error?.replyCode == 404)
            try await connection.publish(Array("ok".utf8), routingKey: queue)
            #expect(try await connection.queueInfo(queue).messageCount == 1)
            #expect(connection.reconnectCount == 0)
            try await connection.deleteQueue(queue)
        }
    }

    @Test("an idle connection survives three heartbeat intervals", .timeLimit(.minutes(1)))
    func heartbeats() async throws {
        let queue = uniqueName()
        try await withTestConnection(name: "idle", heartbeat: .seconds(1)) { connection in
            try await connection.declare(AMQPQueue(name: queue, durable: false))
            // Simulated idleness is the point of this test: nothing is sent for 3.5 heartbeat intervals.
            try await Task.sleep(for: .milliseconds(3500))
            #expect(connection.isConnected)
            #expect(connection.reconnectCount == 0)
            try await connection.publish(Array("still here".utf8), routingKey: queue)
            #expect(try await connection.queueInfo(queue).messageCount == 1)
            try await connection.deleteQueue(queue)
            #expect(connection.reconnectCount == 0)
        }
    }

    @Test("a conflicting redeclare reports the broker's error and the connection keeps working", .timeLimit(.minutes(1)))
    func conflictingRedeclare() async throws {
        let queue = uniqueName()
        try await withTestConnection { connection in
            try await connection.declare(AMQPQueue(name: queue, messageTTL: .seconds(60)))
            try await connection.declare(AMQPQueue(name: queue, messageTTL: .seconds(60)))  // idempotent
            let error = await #expect(throws: AMQPError.self) {
                try await connection.declare(AMQPQueue(name: queue, type: .quorum, messageTTL: .seconds(30)))
            }
            #expect(error?.code == .channelClosed)
            #expect(error?.replyCode == 406)
            #expect(error?.message.contains("PRECONDITION_FAILED") == true)
            #expect(error?.isRetryable == false)

            let missing = await #expect(throws: AMQPError.self) { try await connection.queueInfo(queue + ".missing") }
            #expect(missing?.replyCode == 404)

            try await connection.publish(Array("ok".utf8), routingKey: queue)
            #expect(try await connection.queueInfo(queue).messageCount == 1)
            #expect(connection.reconnectCount == 0)
            try await connection.deleteQueue(queue)
        }
    }

    @Test("publishes in flight when the broker closes the connection fail with a retryable error", .timeLimit(.minutes(1)))
    func inFlightPublishesFail() async throws {
        let name = "inflight-\(UInt32.random(in: 0...UInt32.max))"
        let queue = uniqueName()
        try await withTestConnection(name: name) { connection in
            try await connection.declare(AMQPQueue(name: queue, durable: false))
            let message = AMQPMessage(body: Array(repeating: 0x61, count: 200), routingKey: queue)
            async let outcome = withTimeout(.seconds(40), "publishing until the connection drops") {
                // Two publishers, each keeping 2,000 publishes in flight until the connection has
                // been replaced: one of them always has publishes in flight, even while the other
                // is between two batches.
                await withTaskGroup(of: (Int, [AMQPError]).self) { group in
                    for _ in 0..<2 {
                        group.addTask {
                            var confirmed = 0
                            var failures: [AMQPError] = []
                            while connection.reconnectCount == 0 {
                                for result in await connection.publish(contentsOf: Array(repeating: message, count: 2000)) {
                                    switch result {
                                    case .success: confirmed += 1
                                    case .failure(let error): failures.append(error)
                                    }
                                }
                            }
                            return (confirmed, failures)
                        }
                    }
                    var confirmed = 0
                    var failures: [AMQPError] = []
                    for await (ok, failed) in group {
                        confirmed += ok
                        failures += failed
                    }
                    return (confirmed, failures)
                }
            }
            try await eventually("publishing under way") { try await connection.queueInfo(queue).messageCount > 0 }
            try await closeConnectionOnBroker(named: name)
            let (confirmed, failures) = try await outcome
            #expect(confirmed > 0)
            #expect(!failures.isEmpty, "no publish was in flight when the connection was closed")
            for error in failures {
                #expect(error.code == .connectionClosed)
                #expect(error.isRetryable)
            }
            // The connection was re-established by itself and works.
            #expect(connection.reconnectCount == 1)
            try await connection.publish(Array("after".utf8), routingKey: queue)
            try await connection.deleteQueue(queue)
        }
    }

    @Test("the broker restarts during a publish/consume run", .timeLimit(.minutes(1)))
    func brokerRestart() async throws {
        let queue = uniqueName()
        try await withTestConnection(name: "restart-publisher") { publisher in
            try await publisher.declare(AMQPQueue(name: queue, type: .classic, durable: true))
            try await withTestConnection(name: "restart-consumer") { consumer in
                let deliveries = try await consumer.consume(queue: queue, prefetch: 100)
                let run = RestartRun()
                async let published = withTimeout(.seconds(50), "publishing") {
                    var confirmed = try await publishMessages(publisher, queue: queue, count: 2000, window: 100, retry: true)
                    // Keep publishing until the connection drops: the publishes in flight at that
                    // moment fail with a retryable error and are retried after the reconnect.
                    try await eventually("broker stopping") { await run.stopping }
                    var next = 2000
                    while publisher.reconnectCount == 0 && publisher.isConnected {
                        confirmed.formUnion(try await publishMessages(publisher, queue: queue, count: 50, from: next, window: 50, retry: true))
                        next += 50
                    }
                    // Publish more while the broker is down and after it came back.
                    confirmed.formUnion(try await publishMessages(publisher, queue: queue, count: 1000, from: next, window: 100, retry: true))
                    // The end marker is published after every other message was confirmed.
                    try await publisher.publish(Array("end".utf8), routingKey: queue, properties: AMQPProperties(messageID: "end"))
                    return confirmed
                }
                async let restart: Void = withTimeout(.seconds(50), "restart") {
                    // Restart the broker once consumption is under way.
                    try await eventually("consumption under way") { await run.progress >= 1000 }
                    await run.markStopping()
                    try await rabbitctl("stop_app")
                    try await rabbitctl("start_app")
                }
                var received = Set<Int>()
                for try await delivery in deliveries {
                    try? delivery.ack()  // acks for a channel lost in the restart are dropped; the broker redelivers
                    guard delivery.properties.messageID != "end" else { break }
                    received.insert(Int(delivery.properties.messageID ?? "") ?? -1)
                    await run.progress(received.count)
                }
                try await restart
                let confirmed = try await published
                #expect(confirmed.isSubset(of: received), "\(confirmed.subtracting(received).count) confirmed messages not delivered")
                #expect(confirmed.count >= 3000)
                try await eventually("both connections reconnected") {
                    publisher.reconnectCount >= 1 && consumer.reconnectCount >= 1
                }
            }
            try await publisher.deleteQueue(queue)
        }
    }
}

/// Progress shared between the consumer loop, the publisher and the task that restarts the broker.
actor RestartRun {
    private(set) var progress = 0
    private(set) var stopping = false
    func progress(_ value: Int) { progress = value }
    func markStopping() { stopping = true }
}
