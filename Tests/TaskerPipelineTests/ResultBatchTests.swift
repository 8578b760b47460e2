import Foundation
import Testing
import TaskerAMQP
import TaskerCore
import TaskerPostgres
import TaskerServices
import TaskerTestSupport
import TaskerWire

/// A `step.results` message through a real finalizer and database: its reports are recorded as
/// if each had come alone (a duplicate among them ignored), the delivery is acknowledged once,
/// and a batch with an unreadable entry is dead-lettered whole, the entry named.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ResultBatchTests {
    static func completed(_ dispatch: StepDispatch, value: Int64) -> StepResultMessage {
        StepResultMessage(
            kind: .completed, taskID: dispatch.taskID, stepID: dispatch.stepID, stepName: dispatch.stepName,
            attempt: dispatch.attempt, workerID: "batch-test:1", occurredAt: Date(), startedAt: Date(),
            results: ["value": .int(value)], durationMs: 0.1)
    }

    @Test func aBatchIsRecordedLikeItsReports() async throws {
        var options = PipelineHarness.Options()
        options.runWorkers = false
        try await PipelineHarness.run(options: options) { harness in
            try await AMQPConnection.withConnection(configuration: harness.amqp, logger: harness.logger) { connection in
                let steps = try await connection.consume(queue: harness.topology.stepsQueue(namespace: harness.namespace), prefetch: 10)
                var dispatches = steps.makeAsyncIterator()
                func next() async throws -> StepDispatch {
                    let delivery = try #require(try await dispatches.next())
                    try delivery.ack()
                    return try WireCoding.decode(StepDispatch.self, from: Data(delivery.body))
                }
                let wire = WirePublisher(connection: connection, topology: harness.topology)
                let reply = try await harness.submit("diamond", context: ["even_number": 2, "run": .string(UUID().uuidString)])
                let taskID = try #require(reply.taskID)

                // This test is the worker: the root's result alone…
                let start = try await next()
                #expect(start.stepName == "start")
                try await wire.publish([StepResultBatch.Entry(Self.completed(start, value: 4))])
                // …both branches in one message, with the root's result again (a duplicate).
                let branches = [try await next(), try await next()]
                #expect(Set(branches.map(\.stepName)) == ["branch_b", "branch_c"])
                try await wire.publish(
                    branches.map { StepResultBatch.Entry(Self.completed($0, value: 16)) } + [StepResultBatch.Entry(Self.completed(start, value: 4))])
                // The join is dispatched once, after both.
                let end = try await next()
                #expect(end.stepName == "end")
                #expect(end.parentResults == ["branch_b": ["value": 16], "branch_c": ["value": 16]])
                try await wire.publish([StepResultBatch.Entry(Self.completed(end, value: 256))])

                let detail = try await harness.waitForTask(taskID)
                #expect(detail.task.state == .complete)
                for step in detail.steps {
                    let trail = try #require(detail.stepTransitions[step.id])
                    #expect(trail.map(\.toState) == ["pending", "enqueued", "in_progress", "complete"], "\(step.name)")
                    #expect(step.results?["value"] != nil)
                }
                #expect(detail.step(named: "branch_c")?.results == ["value": 16])
                // Nothing left on the results queue, and no second dispatch of the join.
                try await eventually("the results queue drained") {
                    try await connection.queueInfo(harness.topology.resultsQueue).messageCount == 0
                }
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await connection.queueInfo(harness.topology.stepsQueue(namespace: harness.namespace)).messageCount == 0)
                await steps.cancel()
            }
        }
    }

    @Test func aBatchWithAnUnreadableEntryIsDeadLetteredWhole() async throws {
        var options = PipelineHarness.Options()
        options.runWorkers = false
        try await PipelineHarness.run(options: options) { harness in
            try await AMQPConnection.withConnection(configuration: harness.amqp, logger: harness.logger) { connection in
                let good = StepResultMessage(
                    kind: .completed, taskID: UUID(), stepID: UUID(), stepName: "x", attempt: 1, workerID: "w", occurredAt: Date())
                let body = #"{"event":"step.results","schema_version":1,"results":["#
                    + String(decoding: try WireCoding.encode(good), as: UTF8.self) + #",{"event":"step.completed"}]}"#
                try await connection.publish(
                    Array(body.utf8), exchange: harness.topology.resultsExchange, routingKey: harness.topology.resultsRoutingKey,
                    properties: AMQPProperties(contentType: WireCoding.contentType, messageID: "bad-batch", type: StepResultBatch.event),
                    mandatory: true)
                let queue = DeadLetterQueue(connection: connection, topology: harness.topology)
                let letter = try await waitFor("the batch dead-lettered", timeout: .seconds(30), every: .milliseconds(100)) {
                    try await queue.list().first { $0.messageID == "bad-batch" }
                }
                #expect(letter.sourceQueue == harness.topology.resultsQueue)
                #expect(letter.reason.contains("results[1]"), "\(letter.reason)")
            }
        }
    }
}
