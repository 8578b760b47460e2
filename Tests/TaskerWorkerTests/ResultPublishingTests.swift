import Foundation
import ServiceLifecycle
import Testing
import TaskerAMQP
import TaskerCore
import TaskerTestSupport
import TaskerWire

/// Results on a real broker: several reports in one `step.results` message, one report alone as
/// before, and a busy worker's results each arriving exactly once whichever way they travel.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ResultPublishingTests {
    static func report(_ name: String) -> StepResultMessage {
        StepResultMessage(
            kind: .completed, taskID: UUID(), stepID: UUID(), stepName: name, attempt: 1, workerID: "w",
            occurredAt: Date(), results: ["name": .string(name)], durationMs: 0.5)
    }

    @Test func severalReportsTravelAsOneMessageAndOneAlone() async throws {
        try await withBroker { broker in
            let wire = WirePublisher(connection: broker.connection, topology: broker.topology)
            let results = try await broker.connection.consume(queue: broker.topology.resultsQueue, prefetch: 10)
            let batch = [
                StepResultBatch.Entry(Self.report("a"), trace: ["traceparent": "00-aa-01"]),
                StepResultBatch.Entry(Self.report("b")),
                StepResultBatch.Entry(Self.report("c"), trace: ["traceparent": "00-cc-01"]),
            ]
            try await wire.publish(batch)
            try await wire.publish([StepResultBatch.Entry(Self.report("alone"), trace: ["traceparent": "00-dd-01"])])

            let deliveries = try await withTimeout(.seconds(30), "two messages") {
                var deliveries: [AMQPDelivery] = []
                for try await delivery in results {
                    try delivery.ack()
                    deliveries.append(delivery)
                    if deliveries.count == 2 { break }
                }
                return deliveries
            }
            await results.cancel()
            #expect(deliveries[0].properties.type == StepResultBatch.event)
            #expect(deliveries[0].properties.persistent)
            let entries = try StepResultBatch.decode(Data(deliveries[0].body))
            #expect(entries.map(\.result.stepName) == ["a", "b", "c"])
            #expect(entries.map(\.trace) == [["traceparent": "00-aa-01"], [:], ["traceparent": "00-cc-01"]])
            #expect(entries.map(\.result.results) == [["name": "a"], ["name": "b"], ["name": "c"]])

            // One report goes alone, as a plain report with its trace in the headers.
            #expect(deliveries[1].properties.type == StepResultMessage.Kind.completed.rawValue)
            #expect(deliveries[1].properties.headers["traceparent"]?.stringValue == "00-dd-01")
            let alone = try WireCoding.decode(StepResultMessage.self, from: Data(deliveries[1].body))
            #expect(alone.stepName == "alone")
        }
    }

    @Test func aBatchOverTheBodyLimitIsSplit() async throws {
        try await withBroker { broker in
            let wire = WirePublisher(connection: broker.connection, topology: broker.topology)
            let results = try await broker.connection.consume(queue: broker.topology.resultsQueue, prefetch: 10)
            // Five reports of 300 KiB each: together over the 1 MiB a finalizer accepts.
            let entries = (0..<5).map { index in
                var report = Self.report("big\(index)")
                report.results = ["blob": .string(String(repeating: "x", count: 300 << 10))]
                return StepResultBatch.Entry(report)
            }
            try await wire.publish(entries)
            let bodies = try await withTimeout(.seconds(30), "every report") {
                var bodies: [[UInt8]] = []
                var names: [String] = []
                for try await delivery in results {
                    try delivery.ack()
                    bodies.append(delivery.body)
                    names += try StepResultBatch.decode(Data(delivery.body)).map(\.result.stepName)
                    if names.count >= 5 { break }
                }
                return bodies
            }
            await results.cancel()
            #expect(bodies.count > 1)
            #expect(bodies.allSatisfy { $0.count <= StepResultMessage.maxBodyBytes })
            let names = try bodies.flatMap { try StepResultBatch.decode(Data($0)).map(\.result.stepName) }
            #expect(names.sorted() == (0..<5).map { "big\($0)" })
        }
    }

    @Test func aBusyWorkersResultsEachArriveOnce() async throws {
        try await withBroker { broker in
            let group = try makeWorkerGroup(broker, concurrency: 24, startedReportDelay: .seconds(10))
            let results = try await broker.connection.consume(queue: broker.topology.resultsQueue, prefetch: 100)
            let dispatches = (0..<48).map { makeDispatch(stepName: "s\($0)", context: ["even_number": .int(Int64(2 * $0))]) }
            // Queued before the worker starts: it takes them in one go, and they finish together.
            for dispatch in dispatches { try await broker.publish(dispatch) }

            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let received = try await withTimeout(.seconds(60), "48 results") {
                    var received: [StepResultMessage] = []
                    for try await delivery in results {
                        received += try BrokerFixture.results(delivery)
                        if received.count >= 48 { break }
                    }
                    return received
                }
                #expect(received.count == 48)
                #expect(Set(received.map(\.stepID)) == Set(dispatches.map(\.stepID)))
                #expect(received.allSatisfy { $0.kind == .completed })
                // `square` of 2n: each result is its own step's.
                for result in received {
                    let index = try #require(Int(result.stepName.dropFirst()))
                    #expect(result.results?["value"] == .int(Int64(4 * index * index)), "\(result.stepName)")
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await results.cancel()
            #expect(try await broker.connection.queueInfo(broker.topology.stepsQueue(namespace: "default")).messageCount == 0)
            #expect(try await broker.connection.queueInfo(broker.topology.resultsQueue).messageCount == 0)
        }
    }
}
