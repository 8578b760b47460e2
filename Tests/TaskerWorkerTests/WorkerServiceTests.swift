import Foundation
import Logging
import ServiceLifecycle
import TaskerAMQP
import TaskerCore
import TaskerExamples
import TaskerTestSupport
import TaskerWire
import TaskerWorker
import Testing

/// Integration tests against the RabbitMQ at `AMQP_URL`; each test has its own topology prefix.
@Suite("WorkerService (RabbitMQ)", .timeLimit(.minutes(2)))
struct WorkerServiceTests {
    @Test func topologyDeclarationIsIdempotent() async throws {
        try await withBroker(namespaces: ["default", "ecommerce"]) { broker in
            // Declared once by withBroker; every service declares again at start.
            try await TaskerTopology.declare(on: broker.connection, topology: broker.topology, namespaces: ["ecommerce", "default"])
            for queue in TaskerTopology.queues(broker.topology, namespaces: broker.namespaces) {
                let info = try await broker.connection.queueInfo(queue.name)
                #expect(info.messageCount == 0)
            }
        }
    }

    @Test func publishesStartedThenCompleted() async throws {
        try await withBroker { broker in
            let group = try makeWorkerGroup(broker, startedReportDelay: .zero)
            let results = try await broker.connection.consume(queue: broker.topology.resultsQueue, prefetch: 10)
            let dispatch = makeDispatch(context: ["even_number": 2])

            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await broker.publish(dispatch)

                let received = try await withTimeout(.seconds(30), "started and completed") {
                    var received: [StepResultMessage] = []
                    for try await delivery in results {
                        #expect(delivery.properties.contentType == WireCoding.contentType)
                        #expect(delivery.properties.persistent)
                        #expect(delivery.properties.messageID != nil)
                        #expect(delivery.properties.headers[WireCoding.schemaVersionHeader]?.intValue == Int64(WireCoding.schemaVersion))
                        let result = try BrokerFixture.result(delivery)
                        #expect(delivery.properties.type == result.kind.rawValue)
                        received.append(result)
                        if received.count == 2 { break }
                    }
                    return received
                }
                #expect(received.map(\.kind) == [.started, .completed])
                #expect(received.allSatisfy { $0.stepID == dispatch.stepID && $0.attempt == 1 && $0.workerID == "test-worker:1" })
                #expect(received.last?.results == ["value": 4])

                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await results.cancel()
            #expect(try await broker.connection.queueInfo(broker.topology.stepsQueue(namespace: "default")).messageCount == 0)
        }
    }

    @Test func aStepFasterThanTheReportDelayIsReportedOnceWithItsStartTime() async throws {
        try await withBroker { broker in
            let group = try makeWorkerGroup(broker, startedReportDelay: .seconds(5))
            let results = try await broker.connection.consume(queue: broker.topology.resultsQueue, prefetch: 10)
            let fast = makeDispatch(context: ["even_number": 2])

            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await broker.publish(fast)
                let first = try await withTimeout(.seconds(30), "the result") { () -> StepResultMessage? in
                    for try await delivery in results { return try BrokerFixture.result(delivery) }
                    return nil
                }
                // No step.started: the result alone reports the attempt, with when it started.
                #expect(first?.kind == .completed)
                let startedAt = try #require(first?.startedAt)
                #expect(startedAt <= first!.occurredAt)
                #expect(first!.occurredAt.timeIntervalSince(startedAt) * 1_000 >= (first!.durationMs ?? 0) - 1)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await results.cancel()
            #expect(try await broker.connection.queueInfo(broker.topology.resultsQueue).messageCount == 0)
        }
    }

    @Test func failuresArePublishedAsFailed() async throws {
        try await withBroker { broker in
            let group = try makeWorkerGroup(broker)
            let results = try await broker.connection.consume(queue: broker.topology.resultsQueue, prefetch: 10)
            let permanent = makeDispatch(context: ["even_number": 2, "fail_permanently": ["step_1"]])
            let unknown = makeDispatch(handler: "Unknown")

            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await broker.publish(permanent)
                try await broker.publish(unknown)

                let failed = try await withTimeout(.seconds(30), "two failures") {
                    var failed: [UUID: StepResultMessage] = [:]
                    for try await delivery in results {
                        for result in try BrokerFixture.results(delivery) where result.kind == .failed { failed[result.stepID] = result }
                        if failed.count == 2 { break }
                    }
                    return failed
                }
                #expect(failed[permanent.stepID]?.errorKind == .permanent)
                #expect(failed[unknown.stepID]?.errorKind == .permanent)
                #expect(failed[unknown.stepID]?.errorMessage == "no handler registered for 'Unknown'")

                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await results.cancel()
        }
    }

    @Test func undecodableDispatchIsDeadLetteredWithTheReason() async throws {
        try await withBroker { broker in
            let group = try makeWorkerGroup(broker)
            let dead = try await broker.connection.consume(queue: broker.topology.deadLetterQueue, prefetch: 10)
            let stepsQueue = broker.topology.stepsQueue(namespace: "default")

            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await broker.publishRaw(Array("this is not json".utf8), namespace: "default")
                var wrongVersion = makeDispatch()
                wrongVersion.schemaVersion = 99
                try await broker.publish(wrongVersion)

                let deliveries = try await withTimeout(.seconds(30), "two dead letters") {
                    var deliveries: [(body: [UInt8], error: String?, source: String?)] = []
                    for try await delivery in dead {
                        try delivery.ack()
                        deliveries.append(
                            (delivery.body, delivery.properties.stringHeaders["x-tasker-error"], delivery.properties.stringHeaders["x-tasker-source-queue"])
                        )
                        if deliveries.count == 2 { break }
                    }
                    return deliveries
                }
                let garbage = try #require(deliveries.first { $0.body == Array("this is not json".utf8) })
                #expect(garbage.error?.contains("undecodable") == true)
                #expect(garbage.source == stepsQueue)
                let versioned = try #require(deliveries.first { $0.body != Array("this is not json".utf8) })
                #expect(versioned.error?.contains("unsupported schema_version 99") == true)

                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await dead.cancel()
            #expect(try await broker.connection.queueInfo(stepsQueue).messageCount == 0)
            #expect(try await broker.connection.queueInfo(broker.topology.resultsQueue).messageCount == 0)
        }
    }

    @Test func runsUpToConcurrencyStepsAtOnce() async throws {
        try await withBroker { broker in
            let group = try makeWorkerGroup(broker, concurrency: 4)
            let results = try await broker.connection.consume(queue: broker.topology.resultsQueue, prefetch: 100)
            let dispatches = (0..<8).map { makeDispatch(handler: "sleep", stepName: "s\($0)", handlerConfig: ["ms": 200]) }

            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                for dispatch in dispatches { try await broker.publish(dispatch) }

                let (received, elapsed) = try await withTimeout(.seconds(60), "16 results") {
                    var received: [StepResultMessage] = []
                    for try await delivery in results {
                        received += try BrokerFixture.results(delivery)
                        if received.count == 16 { break }
                    }
                    let starts = received.filter { $0.kind == .started }.map(\.occurredAt)
                    let ends = received.filter { $0.kind == .completed }.map(\.occurredAt)
                    return (received, (ends.max() ?? .distantPast).timeIntervalSince(starts.min() ?? .distantFuture))
                }
                #expect(received.filter { $0.kind == .started }.count == 8)
                #expect(received.filter { $0.kind == .completed }.count == 8)
                #expect(Set(received.map(\.stepID)) == Set(dispatches.map(\.stepID)))

                // In arrival order, the number of started-but-not-completed steps peaks at exactly 4:
                // four ran in parallel, and never more than the configured concurrency.
                var running = 0
                var peak = 0
                for result in received {
                    running += result.kind == .started ? 1 : -1
                    peak = max(peak, running)
                }
                #expect(peak == 4)
                // Serially this takes at least 8 x 200 ms; in parallel about 2 x 200 ms. Wall time is
                // not asserted (a loaded 2-core machine stretches it); the peak above is the proof.
                _ = elapsed

                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await results.cancel()
        }
    }

    @Test func gracefulShutdownFinishesTheRunningStep() async throws {
        try await withBroker { broker in
            let group = try makeWorkerGroup(broker)
            let results = try await broker.connection.consume(queue: broker.topology.resultsQueue, prefetch: 10)
            let dispatch = makeDispatch(handler: "sleep", handlerConfig: ["ms": 1_000])
            let stepsQueue = broker.topology.stepsQueue(namespace: "default")

            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await broker.publish(dispatch)

                let received = try await withTimeout(.seconds(30), "started, shutdown, completed") {
                    var received: [StepResultMessage] = []
                    for try await delivery in results {
                        let result = try BrokerFixture.result(delivery)
                        received.append(result)
                        // Shut down while the handler is still sleeping.
                        if result.kind == .started { await group.triggerGracefulShutdown() }
                        if result.kind != .started { break }
                    }
                    return received
                }
                #expect(received.map(\.kind) == [.started, .completed])
                #expect(received.last?.results == [:])
                try await tasks.waitForAll()
            }
            await results.cancel()
            // The dispatch was acknowledged before the worker closed its connection.
            let info = try await broker.connection.queueInfo(stepsQueue)
            #expect(info.messageCount == 0)
            #expect(info.consumerCount == 0)
        }
    }
}
