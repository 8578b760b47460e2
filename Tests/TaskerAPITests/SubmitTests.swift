import Foundation
import Testing
import PostgresNIO
import TaskerAMQP
import TaskerCore
import TaskerPostgres
import TaskerServices
import TaskerTestSupport

extension APITests {
    @Suite struct Submit {
        @Test func createsThenAnswersTheExistingTaskForADuplicate() async throws {
            try await APIHarness.run { api async throws in
                let context: JSONValue = ["even_number": 2, "run": .string(UUID().uuidString)]
                let created = try await api.submit("diamond", context: context)
                #expect(created.status == 201)
                #expect(created.json?["status"] == "created")
                let id = try #require(created.json?["task_id"]?.stringValue)
                #expect(created.header("Location") == "/v1/tasks/\(id)")

                let duplicate = try await api.submit("diamond", context: context)
                #expect(duplicate.status == 200)
                #expect(duplicate.json == ["task_id": .string(id), "status": "duplicate"])

                let task = try await api.waitForTask(id)
                #expect(task["state"] == "complete")
            }
        }

        @Test func publishedDispatchesLeaveTheOutbox() async throws {
            // No pipeline (so no relay): only the API can delete what it published.
            try await APIHarness.run(.init(pipeline: false)) { api async throws in
                _ = try await api.submitted("linear", context: ["even_number": 2])
                let prefix = api.topology.prefix + "."
                try await eventually("the submission's outbox rows deleted", timeout: .seconds(10), every: .milliseconds(100)) {
                    let rows = try await api.database.query(
                        "SELECT count(*) FROM outbox_batches WHERE EXISTS (SELECT 1 FROM unnest(exchanges) e WHERE starts_with(e, \(prefix)))")
                    return try rows.first?.decode(Int.self) == 0
                }
            }
        }

        @Test func theAMQPAndHTTPPathsShareIdentity() async throws {
            try await APIHarness.run { api async throws in
                let key = "order-\(UUID().uuidString)"
                let request = TaskRequest(namespace: api.namespace, name: "keyed", context: ["even_number": 4], idempotencyKey: key)
                let topology = api.topology
                let reply = try await AMQPConnection.withConnection(configuration: api.amqp, logger: api.logger) { connection in
                    try await TaskRequestClient.withClient(connection: connection, topology: topology, logger: api.logger) { client in
                        try await client.submit(request)
                    }
                }
                #expect(reply.status == .created)
                let overHTTP = try await api.submit("keyed", context: ["even_number": 4], extra: ["idempotency_key": .string(key)])
                #expect(overHTTP.status == 200)
                #expect(overHTTP.json?["task_id"]?.stringValue == reply.taskID?.uuidString.lowercased())

                // caller_provided without a key: rejected by the same rule as over AMQP.
                let missingKey = try await api.submit("keyed", context: ["even_number": 4])
                #expect(missingKey.status == 422)
                #expect(missingKey.json?["details"]?["errors"] == ["template requires an idempotency_key (identity strategy caller_provided)"])
            }
        }

        @Test func invalidRequestsGetEveryError() async throws {
            try await APIHarness.run(.init(pipeline: false)) { api async throws in
                let client = api.client
                // Every decoding problem at once.
                let decoding = try await client.post(
                    "/v1/tasks", .apiKey(api.keys.writer), json: ["name": 3, "context": "no", "priority": 1.5, "colour": "red"])
                #expect(decoding.status == 422)
                #expect(decoding.errorCode == "validation_failed")
                let errors = decoding.json?["details"]?["errors"]?.arrayValue?.compactMap(\.stringValue) ?? []
                #expect(Set(errors) == [
                    "unknown field 'colour'", "'namespace' is required", "'name' must be a string, got integer",
                    "'context' must be a JSON object, got string", "'priority' must be an integer, got number",
                ])

                // The template's schema, and an unknown template.
                let schema = try await api.submit("diamond", context: ["even_number": 1])
                #expect(schema.status == 422)
                #expect(schema.json?["details"]?["errors"]?.arrayValue?.count == 1)
                #expect(schema.json?["details"]?["errors"]?[0]?.stringValue?.hasPrefix("context") == true)
                let unknown = try await api.submit("no_such_template", context: [:])
                #expect(unknown.status == 422)
                #expect(unknown.json?["details"]?["errors"] == [.string("unknown template \(api.namespace)/no_such_template")])
            }
        }

        @Test func malformedOversizedAndTooDeepBodies() async throws {
            try await APIHarness.run(.init(pipeline: false)) { api async throws in
                let client = api.client
                let key = Credential.apiKey(api.keys.writer)
                let malformed = try await client.send("POST", "/v1/tasks", key, body: Data(#"{"namespace": "x", "name": "#.utf8))
                #expect(malformed.status == 400)
                #expect(malformed.errorCode == "bad_request")
                #expect(try await client.send("POST", "/v1/tasks", key, body: Data("[1, 2]".utf8)).status == 400)
                #expect(try await client.send("POST", "/v1/tasks", key, body: Data()).status == 400)

                let padding = String(repeating: "a", count: TaskRequest.maxBodyBytes)
                let oversized = try await client.post(
                    "/v1/tasks", key, json: ["namespace": .string(api.namespace), "name": "diamond", "context": ["pad": .string(padding)]])
                #expect(oversized.status == 413)
                #expect(oversized.errorCode == "payload_too_large")
                #expect(oversized.json?["details"]?["limit_bytes"] == .int(Int64(TaskRequest.maxBodyBytes)))

                var deep: JSONValue = 1
                for _ in 0..<100 { deep = ["d": deep] }
                let tooDeep = try await client.post("/v1/tasks", key, json: ["namespace": .string(api.namespace), "name": "diamond", "context": deep])
                #expect(tooDeep.status == 422)
                #expect(tooDeep.json?["details"]?["errors"]?[0]?.stringValue?.contains("levels") == true)

                // The server keeps serving.
                #expect(try await client.get("/health/live", .none).status == 200)
            }
        }
    }
}
