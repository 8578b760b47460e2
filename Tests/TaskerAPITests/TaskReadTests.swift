import Foundation
import Testing
import TaskerCore
import TaskerTestSupport

extension APITests {
    @Suite struct TaskReads {
        @Test func aTaskWithItsStepsAuditTrailAndOneStepsAttempts() async throws {
            try await APIHarness.run { api async throws in
                let client = api.client
                let reader = Credential.apiKey(api.keys.reader)
                let id = try await api.submitted("diamond", context: ["even_number": 2, "fail_once": ["branch_b"], "run": .string(UUID().uuidString)])
                let task = try await api.waitForTask(id)
                #expect(task["state"] == "complete")
                #expect(task["context"]?["even_number"] == 2)
                #expect(task["step_counts"] == ["total": 4, "done": 4, "error": 0, "active": 0])
                let steps = task["steps"]?.arrayValue ?? []
                #expect(steps.compactMap { $0["name"]?.stringValue } == ["start", "branch_b", "branch_c", "end"])
                #expect(steps.first { $0["name"] == "start" }?["results"] == ["value": 4])
                #expect(steps.first { $0["name"] == "end" }?["depends_on"] == ["branch_b", "branch_c"])
                let retried = try #require(steps.first { $0["name"] == "branch_b" })
                #expect(retried["attempts"] == 2)
                #expect(retried["last_error"]?["message"]?.stringValue?.contains("fail_once") == true)

                // One step, by name and by id: its transitions and attempts.
                let byName = try await client.get("/v1/tasks/\(id)/steps/branch_b", reader)
                #expect(byName.status == 200)
                let stepID = try #require(retried["step_id"]?.stringValue)
                let byID = try await client.get("/v1/tasks/\(id)/steps/\(stepID)", reader)
                #expect(byID.json == byName.json)
                let step = try #require(byName.json)
                #expect(step["transitions"]?.arrayValue?.compactMap { $0["to_state"]?.stringValue } == [
                    "pending", "enqueued", "in_progress", "waiting_for_retry", "enqueued", "in_progress", "complete",
                ])
                let attempts = step["attempt_history"]?.arrayValue ?? []
                #expect(attempts.count == 2)
                #expect(attempts.first?["outcome"] == "waiting_for_retry")
                #expect(attempts.first?["error"]?["message"]?.stringValue?.contains("fail_once") == true)
                #expect(attempts.last?["outcome"] == "complete")
                #expect(attempts.last?["attempt"] == 2)
                #expect(attempts.last?["worker_id"]?.stringValue?.isEmpty == false)

                // The audit trail, whole and in pages of 3: the same entries, oldest first.
                let whole = try #require(try await client.get("/v1/tasks/\(id)/audit", reader).json)
                let entries = whole["entries"]?.arrayValue ?? []
                #expect(whole["next_cursor"] == .null)
                #expect(entries.filter { $0["entity"] == "task" }.compactMap { $0["to_state"]?.stringValue } == ["pending", "in_progress", "complete"])
                #expect(entries.filter { $0["entity"] == "step" }.count == 4 * 4 + 3)
                let times = entries.compactMap { $0["created_at"]?.stringValue }
                #expect(times == times.sorted())
                var paged: [JSONValue] = []
                var cursor: String?
                repeat {
                    let page = try await client.get("/v1/tasks/\(id)/audit?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), reader)
                    #expect(page.status == 200)
                    paged += page.json?["entries"]?.arrayValue ?? []
                    cursor = page.json?["next_cursor"]?.stringValue
                } while cursor != nil
                #expect(paged == entries)

                // Not found, and not a task id.
                let missing = try await client.get("/v1/tasks/\(UUID().uuidString.lowercased())", reader)
                #expect(missing.status == 404)
                #expect(missing.errorCode == "not_found")
                #expect(try await client.get("/v1/tasks/not-a-uuid", reader).status == 404)
                #expect(try await client.get("/v1/tasks/\(UUID().uuidString)/audit", reader).status == 404)
                #expect(try await client.get("/v1/tasks/\(id)/steps/no_such_step", reader).status == 404)
                #expect(try await client.get("/v1/tasks/\(id)/audit?cursor=garbage", reader).status == 400)
            }
        }

        @Test func aFailedTaskShowsItsErrors() async throws {
            try await APIHarness.run { api async throws in
                let id = try await api.submitted("linear", context: ["even_number": 2, "fail_permanently": ["step_2"], "run": .string(UUID().uuidString)])
                let task = try await api.waitForTask(id)
                #expect(task["state"] == "error")
                #expect(task["step_counts"]?["error"] == 1)
                let failed = try #require(task["steps"]?.arrayValue?.first { $0["name"] == "step_2" })
                #expect(failed["state"] == "error")
                #expect(failed["last_error"]?["kind"] == "permanent")
                let step = try #require(try await api.client.get("/v1/tasks/\(id)/steps/step_2", .apiKey(api.keys.reader)).json)
                #expect(step["attempt_history"]?.arrayValue?.count == 1)
                #expect(step["attempt_history"]?[0]?["outcome"] == "error")
                #expect(step["attempt_history"]?[0]?["error"]?["kind"] == "permanent")
            }
        }
    }
}
