import Foundation
import Testing
import TaskerCore
import TaskerTestSupport

extension APITests {
    /// `POST /v1/tasks/bulk` on the real operator actions and pipeline: each task answered on its own.
    @Suite struct BulkActions {
        @Test func cancelsASelectionAndSaysWhatBecameOfEachTask() async throws {
            try await APIHarness.run(.init(operatorActions: true)) { api async throws in
                let client = api.client
                let operate = Credential.apiKey(api.keys.operator_)
                let slow = [
                    try await api.submitted("linear", context: ["even_number": 2, "sleep_ms": ["step_1": 30_000]]),
                    try await api.submitted("linear", context: ["even_number": 4, "sleep_ms": ["step_1": 30_000]]),
                ]
                let finished = try await api.submitted("linear", context: ["even_number": 6])
                #expect(try await api.waitForTask(finished)["state"] == "complete")
                let unknown = UUID().uuidString.lowercased()
                let ids: [JSONValue] = (slow + [finished, unknown, slow[0]]).map { .string($0) }

                let answer = try await client.post("/v1/tasks/bulk", operate, json: ["action": "cancel", "task_ids": .array(ids), "reason": "bulk test"])
                #expect(answer.status == 200)
                #expect(answer.json?["action"] == "cancel")
                let results = answer.json?["results"]?.arrayValue ?? []
                // In the order given, a repeated id once.
                #expect(results.compactMap { $0["task_id"]?.stringValue } == slow + [finished, unknown])
                #expect(results.compactMap { $0["status"]?.stringValue } == ["applied", "applied", "refused", "not_found"])
                #expect(results[0]["task_state"] == "cancelled" && results[1]["task_state"] == "cancelled")
                #expect(results[2]["task_state"] == "complete")
                #expect(results[2]["message"]?.stringValue?.isEmpty == false)
                for id in slow { #expect(try await client.get("/v1/tasks/\(id)", .apiKey(api.keys.reader)).json?["state"] == "cancelled") }
                // The audit trail names the caller and the reason.
                let audit = String(decoding: try await client.get("/v1/tasks/\(slow[1])/audit", .apiKey(api.keys.reader)).body, as: UTF8.self)
                #expect(audit.contains("bulk test") && audit.contains("operator"))

                // Again: already applied.
                let again = try await client.post("/v1/tasks/bulk", operate, json: ["action": "cancel", "task_ids": .array(slow.map { .string($0) }), "reason": "bulk test"])
                #expect(again.json?["results"]?.arrayValue?.compactMap { $0["status"]?.stringValue } == ["already_applied", "already_applied"])
                // Retrying a cancelled task is refused, with the reason.
                let retry = try await client.post("/v1/tasks/bulk", operate, json: ["action": "retry", "task_ids": [.string(slow[0])], "reason": "again"])
                #expect(retry.status == 200)
                #expect(retry.json?["results"]?[0]?["status"] == "refused")

                // Malformed requests: 422 with every problem; no scope: 403.
                let bad = try await client.post("/v1/tasks/bulk", operate, json: ["action": "explode", "task_ids": ["nope"], "colour": "red"])
                #expect(bad.status == 422)
                let errors = Set(bad.json?["details"]?["errors"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                #expect(errors == [
                    "unknown field 'colour'", "'action' is required: one of cancel, retry", "'task_ids[0]' is not a task id (a UUID)",
                    "'reason' is required: a non-empty string saying why",
                ])
                let none = try await client.post("/v1/tasks/bulk", operate, json: ["action": "cancel", "task_ids": [], "reason": "x"])
                #expect(none.status == 422)
                let tooMany = (0...100).map { _ in JSONValue.string(UUID().uuidString) }
                #expect(try await client.post("/v1/tasks/bulk", operate, json: ["action": "cancel", "task_ids": .array(tooMany), "reason": "x"]).status == 422)
                #expect(try await client.post("/v1/tasks/bulk", .apiKey(api.keys.reader), json: ["action": "cancel", "task_ids": [], "reason": "x"]).status == 403)
            }
        }
    }
}
