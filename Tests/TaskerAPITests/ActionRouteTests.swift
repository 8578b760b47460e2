import Foundation
import Synchronization
import Testing
import TaskerAPI
import TaskerCore
import TaskerTestSupport

/// The action endpoints' HTTP layer: authorization, validation, and how a performer's answer
/// becomes a response. The actions themselves (and their races) are tested where they are
/// built; this performer only records what it was asked and answers what the test says.
final class RecordingPerformer: TaskActionPerforming {
    let requests = Mutex<[OperatorCommand]>([])
    let answer: @Sendable (OperatorCommand) -> OperatorOutcome

    init(answer: @escaping @Sendable (OperatorCommand) -> OperatorOutcome) {
        self.answer = answer
    }

    func perform(_ command: OperatorCommand) async throws -> OperatorOutcome {
        requests.withLock { $0.append(command) }
        return answer(command)
    }
}

extension APITests {
    @Suite struct Actions {
        @Test func withoutPerformerTheEndpointsCheckTheRequestThenAnswerNotImplemented() async throws {
            try await APIHarness.run(.init(pipeline: false)) { api async throws in
                let client = api.client
                let task = UUID().uuidString.lowercased()
                #expect(try await client.post("/v1/tasks/\(task)/cancel", .none, json: ["reason": "x"]).status == 401)
                #expect(try await client.post("/v1/tasks/\(task)/cancel", .apiKey(api.keys.writer), json: ["reason": "x"]).status == 403)
                let operate = Credential.apiKey(api.keys.operator_)
                let noReason = try await client.post("/v1/tasks/\(task)/retry", operate, json: ["why": "x"])
                #expect(noReason.status == 422)
                #expect(Set(noReason.json?["details"]?["errors"]?.arrayValue?.compactMap(\.stringValue) ?? []) == [
                    "unknown field 'why'", "'reason' is required: a non-empty string saying why",
                ])
                #expect(try await client.post("/v1/tasks/\(task)/steps/a/resolve", operate, json: ["reason": "x"]).status == 422)
                #expect(try await client.send("POST", "/v1/tasks/\(task)/resolve", operate, body: Data("{".utf8)).status == 400)
                let notImplemented = try await client.post("/v1/tasks/\(task)/cancel", operate, json: ["reason": "stuck"])
                #expect(notImplemented.status == 501)
                #expect(notImplemented.errorCode == "not_implemented")
            }
        }

        @Test func aPerformersAnswersBecomeResponses() async throws {
            let taskID = UUID()
            let stepID = UUID()
            let performer = RecordingPerformer { command in
                let id = command.taskID
                switch command.action {
                case .cancelTask:
                    return OperatorOutcome(
                        status: .applied, message: "cancelled", taskID: id, taskState: .cancelled, actionID: UUID(),
                        steps: [.init(stepID: stepID, stepName: "a", from: .pending, to: .cancelled)])
                case .retryTask: return OperatorOutcome(status: .alreadyApplied, message: "already running", taskID: id, taskState: .inProgress)
                case .resolveTask:
                    return OperatorOutcome(status: .refused, message: "a complete task cannot be resolved", taskID: id, taskState: .complete)
                case .retryStep: return OperatorOutcome(status: .notFound, message: "no step b", taskID: id, taskState: .error)
                case .resolveStep: return OperatorOutcome(status: .invalid, message: "results too large", taskID: id, taskState: .error)
                }
            }
            try await APIHarness.run(.init(pipeline: false, actions: performer)) { api async throws in
                let client = api.client
                let operate = Credential.apiKey(api.keys.operator_)
                let base = "/v1/tasks/\(taskID.uuidString.lowercased())"

                let cancelled = try await client.post("\(base)/cancel", operate, json: ["reason": "stuck for a day"])
                #expect(cancelled.status == 200)
                #expect(cancelled.json?["status"] == "applied")
                #expect(cancelled.json?["task_state"] == "cancelled")
                #expect(cancelled.json?["steps"]?[0]?["to_state"] == "cancelled")
                let retried = try await client.post("\(base)/retry", operate, json: ["reason": "again"])
                #expect(retried.status == 200)
                #expect(retried.json?["status"] == "already_applied")
                let refused = try await client.post("\(base)/resolve", operate, json: ["reason": "done by hand"])
                #expect(refused.status == 409)
                #expect(refused.errorCode == "refused")
                #expect(refused.json?["details"]?["task_state"] == "complete")
                #expect(try await client.post("\(base)/steps/b/retry", operate, json: ["reason": "r"]).status == 404)
                let invalid = try await client.post("\(base)/steps/\(stepID.uuidString)/resolve", operate, json: ["reason": "r", "results": ["value": 1]])
                #expect(invalid.status == 422)

                let asked = performer.requests.withLock { $0 }
                #expect(asked.map(\.action) == [
                    .cancelTask, .retryTask, .resolveTask, .retryStep(.name("b")), .resolveStep(.id(stepID), results: ["value": 1]),
                ])
                #expect(asked.allSatisfy { $0.actor == "operator" && $0.taskID == taskID })
                #expect(asked.first?.reason == "stuck for a day")
            }
        }

        /// The real operator actions behind the API, against the running pipeline: a failed
        /// task retried, a running one cancelled, a refusal, and the audit trail naming the key.
        @Test func operatorActionsThroughTheAPI() async throws {
            try await APIHarness.run(.init(operatorActions: true)) { api async throws in
                let client = api.client
                let operate = Credential.apiKey(api.keys.operator_)

                // A permanent failure, then a retry: the failed step runs again and the task completes
                // (the failure injection only names the step; its second run fails too, so resolve it).
                let failing = try await api.submitted("linear", context: ["even_number": 2, "fail_permanently": ["step_2"]])
                #expect(try await api.waitForTask(failing)["state"] == "error")
                let resolved = try await client.post(
                    "/v1/tasks/\(failing)/steps/step_2/resolve", operate, json: ["reason": "fixed upstream", "results": ["value": 16]])
                #expect(resolved.status == 200)
                #expect(resolved.json?["status"] == "applied")
                let finished = try await api.waitForTask(failing)
                #expect(finished["state"] == "complete")
                let again = try await client.post(
                    "/v1/tasks/\(failing)/steps/step_2/resolve", operate, json: ["reason": "fixed upstream", "results": ["value": 16]])
                #expect(again.status == 200 || again.status == 409)
                // Cancelling a finished task is refused, with the reason.
                let refused = try await client.post("/v1/tasks/\(failing)/cancel", operate, json: ["reason": "too late"])
                #expect(refused.status == 409)
                #expect(refused.errorCode == "refused")
                // The audit trail records who did it and why.
                let audit = try await client.get("/v1/tasks/\(failing)/audit", .apiKey(api.keys.reader))
                #expect(audit.status == 200)
                let text = String(decoding: audit.body, as: UTF8.self)
                #expect(text.contains("fixed upstream") && text.contains("operator"))

                // A running task cancelled: its sleeping step is cancelled, the task ends cancelled.
                let slow = try await api.submitted("linear", context: ["even_number": 2, "sleep_ms": ["step_1": 30_000]])
                try await Task.sleep(for: .milliseconds(300))
                let cancelled = try await client.post("/v1/tasks/\(slow)/cancel", operate, json: ["reason": "not needed"])
                #expect(cancelled.status == 200)
                #expect(cancelled.json?["task_state"] == "cancelled")
                let repeated = try await client.post("/v1/tasks/\(slow)/cancel", operate, json: ["reason": "not needed"])
                #expect(repeated.status == 200)
                #expect(repeated.json?["status"] == "already_applied")
                #expect(try await client.post("/v1/tasks/\(UUID().uuidString)/cancel", operate, json: ["reason": "x"]).status == 404)
            }
        }
    }
}
