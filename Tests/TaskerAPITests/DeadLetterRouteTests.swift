import Foundation
import Testing
import TaskerAMQP
import TaskerCore
import TaskerTestSupport

extension APITests {
    @Suite struct DeadLetters {
        @Test func listsShowsAndReplaysDeadLetteredMessages() async throws {
            try await APIHarness.run { api async throws in
                let client = api.client
                let key = Credential.apiKey(api.keys.deadLetters)
                let topology = api.topology
                // Two bodies that are not task requests: the coordinator dead-letters them with the reason.
                try await AMQPConnection.withConnection(configuration: api.amqp, logger: api.logger) { connection in
                    for (id, body) in [("not-json", "this is not json"), ("not-object", "[1, 2]")] {
                        try await connection.publish(
                            Array(body.utf8), exchange: topology.requestsExchange, routingKey: "x.y",
                            properties: AMQPProperties(contentType: "text/plain", messageID: id), mandatory: true)
                    }
                }
                let listed = try await waitFor("both messages dead-lettered", timeout: .seconds(30), every: .milliseconds(200)) {
                    let messages = try await client.get("/v1/dlq", key).json?["messages"]?.arrayValue ?? []
                    return messages.count == 2 ? messages : nil
                }
                #expect(Set(listed.compactMap { $0["message_id"]?.stringValue }) == ["not-json", "not-object"])
                #expect(listed.allSatisfy { $0["source_queue"]?.stringValue == topology.requestsQueue })
                #expect(listed.allSatisfy { $0["reason"]?.stringValue?.isEmpty == false })
                #expect(listed.allSatisfy { $0["body"] == nil })
                #expect(try await client.get("/v1/dlq?limit=1", key).json?["messages"]?.arrayValue?.count == 1)

                let shown = try await client.get("/v1/dlq/not-object", key)
                #expect(shown.status == 200)
                #expect(shown.json?["body"] == [1, 2])
                #expect(try await client.get("/v1/dlq/not-json", key).json?["body"] == "this is not json")
                #expect(try await client.get("/v1/dlq/nothing-like-this", key).status == 404)

                // Replayed to the requests queue; the coordinator refuses it again, so it comes back.
                let replay = try await client.send("POST", "/v1/dlq/not-json/replay", key)
                #expect(replay.status == 200)
                #expect(replay.json == ["message_id": "not-json", "replayed_to": .string(topology.requestsQueue)])
                try await eventually("the replayed message back on the dead-letter queue", timeout: .seconds(30), every: .milliseconds(200)) {
                    let messages = try await client.get("/v1/dlq", key).json?["messages"]?.arrayValue ?? []
                    return messages.first { $0["message_id"] == "not-json" }?["deaths"] != nil && messages.count == 2
                }
                #expect(try await client.send("POST", "/v1/dlq/nothing-like-this/replay", key).status == 404)

                // Discarded: gone for good, the other one stays.
                let discard = try await client.send("POST", "/v1/dlq/not-object/discard", key)
                #expect(discard.status == 200)
                #expect(discard.json == ["message_id": "not-object", "discarded": true, "source_queue": .string(topology.requestsQueue)])
                let left = try await client.get("/v1/dlq", key).json?["messages"]?.arrayValue ?? []
                #expect(left.compactMap { $0["message_id"]?.stringValue } == ["not-json"])
                #expect(try await client.get("/v1/dlq/not-object", key).status == 404)
                #expect(try await client.send("POST", "/v1/dlq/not-object/discard", key).status == 404)
                #expect(try await client.send("POST", "/v1/dlq/not-json/discard", .apiKey(api.keys.reader)).status == 403)
                #expect(try await client.get("/v1/dlq?limit=5000", key).status == 400)
            }
        }
    }
}
