import Foundation
import Testing
import TaskerAMQP
import TaskerCore
import TaskerServices
import TaskerWire

/// Bad input is announced and kept: a body that is not a request is dead-lettered with its
/// reason and announced as `task.request_rejected`; `tasker dlq` (DeadLetterQueue) lists it,
/// replays it to the queue it came from, and purges.
@Suite(.serialized, .timeLimit(.minutes(2))) struct DeadLetterTests {
    @Test func aNonRequestIsAnnouncedDeadLetteredListedReplayedAndPurged() async throws {
        try await PipelineHarness.run { harness in
            let topology = harness.topology
            try await AMQPConnection.withConnection(configuration: harness.amqp, logger: harness.logger) { connection in
                let rejections = try await harness.consumeEvents(["task.request_rejected"], named: "test-rejections", on: connection)
                var announced = rejections.makeAsyncIterator()
                let queue = DeadLetterQueue(connection: connection, topology: topology)

                for (id, body) in [("not-json", "this is not json"), ("not-object", "[1, 2]")] {
                    try await connection.publish(
                        Array(body.utf8), exchange: topology.requestsExchange, routingKey: "x.y",
                        properties: AMQPProperties(contentType: "text/plain", messageID: id), mandatory: true)
                    let event = try #require(try await announced.next())
                    try event.ack()
                    let payload = try JSONValue.parse(Data(event.body))
                    #expect(payload["event"] == "task.request_rejected")
                    #expect(payload["task_id"] == .null, "the key is there, null")
                    #expect(payload["event_id"]?.stringValue != nil && payload["occurred_at"] != nil)
                    #expect(payload["details"]?["errors"]?.arrayValue?.isEmpty == false)
                    #expect(payload["details"]?["message_id"] == .string(id))
                }

                var letters: [DeadLetter] = []
                for _ in 0..<100 where letters.count < 2 {
                    letters = try await queue.list()
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(Set(letters.map(\.messageID)) == ["not-json", "not-object"])
                #expect(letters.allSatisfy { $0.sourceQueue == topology.requestsQueue && !$0.reason.isEmpty })
                try await Task.sleep(for: .milliseconds(200))
                #expect(try await queue.list().count == 2, "listing leaves the messages queued")

                // Replayed to the requests queue, the coordinator refuses it again: announced and back.
                let replayed = try #require(try await queue.replay(messageID: "not-json"))
                #expect(replayed.sourceQueue == topology.requestsQueue)
                let again = try #require(try await announced.next())
                try again.ack()
                #expect(try JSONValue.parse(Data(again.body))["details"]?["message_id"] == "not-json")
                var afterReplay: [DeadLetter] = []
                for _ in 0..<100 {
                    afterReplay = try await queue.list()
                    if afterReplay.count == 2 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(afterReplay.count == 2, "\(afterReplay.map { ($0.messageID, $0.reason, $0.sourceQueue) })")

                #expect(try await queue.purge() == 2)
                #expect(try await queue.list().isEmpty)
                await rejections.cancel()
            }
        }
    }
}
