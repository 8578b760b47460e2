import Foundation
import ServiceLifecycle
import Synchronization
import TaskerAMQP
import TaskerCore
import TaskerExamples
import TaskerTestSupport
import TaskerWire
import TaskerWorker

/// A topology unique to one test run.
func uniqueTopology() -> WireTopology {
    WireTopology(prefix: "test-\(UInt32.random(in: 0...UInt32.max))")
}

/// The registry with the example handlers.
func exampleRegistry() -> HandlerRegistry {
    var registry = HandlerRegistry()
    ExampleHandlers.register(in: &registry)
    return registry
}

/// A dispatch with sensible defaults for tests.
func makeDispatch(
    handler: String = "square",
    stepName: String = "step_1",
    namespace: String = "default",
    attempt: Int = 1,
    maxAttempts: Int = 3,
    context: JSONValue = ["even_number": 2],
    parentResults: [String: JSONValue] = [:],
    handlerConfig: JSONValue = [:],
    timeoutSeconds: Double = 30,
    now: Date = Date()
) -> StepDispatch {
    StepDispatch(
        taskID: UUID(),
        stepID: UUID(),
        stepName: stepName,
        handler: handler,
        namespace: namespace,
        templateName: "test_template",
        templateVersion: "1.0.0",
        attempt: attempt,
        maxAttempts: maxAttempts,
        context: context,
        parentResults: parentResults,
        handlerConfig: handlerConfig,
        timeoutSeconds: timeoutSeconds,
        deadline: now.addingTimeInterval(timeoutSeconds),
        dispatchedAt: now
    )
}

/// A clock that advances by `step` on every reading, so durations are exact.
final class TickingClock: Sendable {
    let start: Date
    let step: TimeInterval
    private let readings = Mutex(0)

    init(start: Date = Date(timeIntervalSince1970: 1_700_000_000), step: TimeInterval) {
        self.start = start
        self.step = step
    }

    var now: @Sendable () -> Date {
        { [self] in
            let n = readings.withLock { count in
                defer { count += 1 }
                return count
            }
            return start.addingTimeInterval(Double(n) * step)
        }
    }
}

/// A test harness: a unique topology declared on a test connection, deleted afterwards.
struct BrokerFixture {
    let topology: WireTopology
    let namespaces: [String]
    let connection: AMQPConnection

    /// Publishes a dispatch the way the coordinator does.
    func publish(_ dispatch: StepDispatch) async throws {
        try await publishRaw(Array(try WireCoding.encode(dispatch)), namespace: dispatch.namespace)
    }

    /// Publishes any body to the steps exchange for `namespace`.
    func publishRaw(_ body: [UInt8], namespace: String) async throws {
        try await connection.publish(
            body,
            exchange: topology.stepsExchange,
            routingKey: namespace,
            properties: WireMessageKind.stepDispatch.properties(messageID: UUID(), timestamp: Date()),
            mandatory: true
        )
    }

    /// Decodes and acknowledges a result delivery that carries one report.
    static func result(_ delivery: AMQPDelivery) throws -> StepResultMessage {
        let result = try WireCoding.decode(StepResultMessage.self, from: Data(delivery.body))
        try delivery.ack()
        return result
    }

    /// Decodes and acknowledges a result delivery: its one report, or each of a `step.results` batch.
    static func results(_ delivery: AMQPDelivery) throws -> [StepResultMessage] {
        let entries = try StepResultBatch.decode(Data(delivery.body))
        try delivery.ack()
        return entries.map(\.result)
    }
}

/// Declares a unique topology, runs `body`, then deletes the topology.
func withBroker<R>(
    namespaces: [String] = ["default"],
    _ body: (BrokerFixture) async throws -> R
) async throws -> R {
    let topology = uniqueTopology()
    return try await AMQPConnection.withConnection(configuration: testAMQPConfiguration(name: "worker-tests"), logger: testLogger) { connection in
        try await TaskerTopology.declare(on: connection, topology: topology, namespaces: namespaces)
        let fixture = BrokerFixture(topology: topology, namespaces: namespaces, connection: connection)
        let result: R
        do {
            result = try await body(fixture)
        } catch {
            await deleteTopology(topology, namespaces: namespaces, on: connection)
            throw error
        }
        await deleteTopology(topology, namespaces: namespaces, on: connection)
        return result
    }
}

/// A worker for `fixture`'s topology, wrapped in a service group the test can shut down.
func makeWorkerGroup(
    _ fixture: BrokerFixture,
    registry: HandlerRegistry = exampleRegistry(),
    concurrency: Int = 4,
    startedReportDelay: Duration = .milliseconds(100)
) throws -> ServiceGroup {
    let configuration = WorkerService.Configuration(
        amqp: try testAMQPConfiguration(name: "worker-under-test"),
        topology: fixture.topology,
        namespaces: fixture.namespaces,
        concurrency: concurrency,
        workerID: "test-worker:1",
        startedReportDelay: startedReportDelay
    )
    let worker = WorkerService(configuration: configuration, registry: registry, logger: testLogger)
    return ServiceGroup(configuration: ServiceGroupConfiguration(services: [worker], logger: testLogger))
}
