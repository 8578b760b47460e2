import Foundation
import Testing
import TaskerAMQP
import TaskerCore
import TaskerPostgres
import TaskerServices

@Suite(.serialized, .timeLimit(.minutes(2))) struct RequestHandlingTests {
    @Test func duplicateRequestGivesOneTask() async throws {
        try await PipelineHarness.run { harness in
            let context: JSONValue = ["even_number": 4, "run": .string(UUID().uuidString)]
            let first = try await harness.submit("diamond", context: context)
            let second = try await harness.submit("diamond", context: context)
            #expect(first.status == .created)
            #expect(second.status == .duplicate)
            #expect(first.taskID != nil && second.taskID == first.taskID)
            _ = try await harness.waitForTask(try #require(first.taskID))
        }
    }

    @Test func unknownTemplateAndSchemaViolationsAreRejectedWithTheirErrors() async throws {
        try await PipelineHarness.run { harness in
            let unknown = try await harness.submit("no_such_workflow", context: [:])
            #expect(unknown.status == .rejected)
            #expect(unknown.errors == ["unknown template \(harness.namespace)/no_such_workflow"])
            let invalid = try await harness.submit("api_integration", context: ["cart_id": "seven"])
            #expect(invalid.status == .rejected)
            #expect(invalid.errors == ["context $.cart_id expected integer, got string"])
            let missing = try await harness.submit("linear", context: [:])
            #expect(missing.errors == ["context $.even_number is required"])
        }
    }

    @Test func nonJSONRequestIsDeadLetteredAndTheCoordinatorKeepsServing() async throws {
        try await PipelineHarness.run { harness in
            let topology = harness.topology
            let deadLetter = try await AMQPConnection.withConnection(configuration: harness.amqp, logger: harness.logger) { connection in
                let dead = try await connection.consume(queue: topology.deadLetterQueue, prefetch: 10)
                try await connection.publish(
                    Array("this is not json".utf8), exchange: topology.requestsExchange, routingKey: "x.y",
                    properties: AMQPProperties(contentType: "text/plain"), mandatory: true)
                var iterator = dead.makeAsyncIterator()
                let delivery = try await iterator.next()
                try delivery?.ack()
                await dead.cancel()
                return delivery
            }
            let letter = try #require(deadLetter)
            #expect(String(decoding: letter.body, as: UTF8.self) == "this is not json")
            #expect(letter.properties.stringHeaders["x-tasker-error"]?.hasPrefix("malformed JSON") == true)
            // Still serving:
            let reply = try await harness.submit("linear", context: ["even_number": 2, "run": .string(UUID().uuidString)])
            #expect(reply.status == .created)
            #expect(try await harness.waitForTask(try #require(reply.taskID)).task.state == .complete)
        }
    }
}
