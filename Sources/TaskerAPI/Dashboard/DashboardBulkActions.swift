internal import Foundation
internal import Hummingbird
internal import Logging
internal import TaskerCore

/// `POST /ui/tasks/bulk`: cancel or retry the tasks ticked in the tasks list (`task_id`
/// repeated, `action` = `cancel` or `retry`, `reason`). Checked like every dashboard action
/// (``DashboardActionGuard``: session, CSRF token, `tasks:operate`); each task then goes
/// through the operator actions on its own (``BulkTaskAction``), and the answer is a page
/// saying, per task: applied, already applied, or refused (with the reason), or not found.
struct DashboardBulkActions: Sendable {
    let actions: (any TaskActionPerforming)?
    let sessions: DashboardSessions

    func register(on ui: RouterGroup<APIRequestContext>) {
        ui.post("tasks/bulk") { request, context in try await perform(request, context) }
    }

    func perform(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let session: DashboardSession, form: DashboardForm
        switch try await DashboardActionGuard.check(request, context, sessions: sessions, scope: .tasksOperate) {
        case .refused(let page): return page
        case .allowed(let allowedSession, let allowedForm): (session, form) = (allowedSession, allowedForm)
        }
        let back = "/ui/tasks"
        guard let kind = form["action"].flatMap(BulkTaskAction.Kind.init(rawValue:)) else {
            return DashboardPage.message(.unprocessableContent, title: "Not done", "Choose Cancel or Retry.", session: session, back: back)
        }
        let selected = form.values("task_id")
        let ids = selected.compactMap(UUID.init(uuidString:))
        if let problem = BulkTaskAction.problems(count: selected.count).first ?? (ids.count == selected.count ? nil : "a selected task id is not a UUID") {
            return DashboardPage.message(.unprocessableContent, title: "Not done", "Nothing was done: \(problem).", session: session, back: back)
        }
        guard let actions else {
            return DashboardPage.message(.notImplemented, title: "Unavailable", "Operator actions are not available on this server.", session: session, back: back)
        }
        let reason: String
        switch DashboardActionRoutes.reason(form, session: session, back: back) {
        case .failure(let refusal): return refusal.page
        case .success(let text): reason = text
        }
        let bulk = BulkTaskAction(kind: kind, taskIDs: ids, actor: session.principal.name, reason: reason)
        let outcomes = try await bulk.perform(with: actions)
        context.logger.info(
            "dashboard bulk action",
            metadata: ["tasker.api.caller": "\(session.principal.name)", "tasker.action": "\(kind.rawValue)", "tasker.tasks": "\(outcomes.count)"])
        let title = kind == .cancel ? "Bulk cancel" : "Bulk retry"
        return DashboardPage.response(title: title, session: session, body: Self.render(outcomes, kind: kind))
    }

    /// The per-task results: the task, what became of the action (text and a glyph), the
    /// message (the refusal's reason), and the task's state afterwards.
    static func render(_ outcomes: [OperatorOutcome], kind: BulkTaskAction.Kind) -> String {
        let counts = Dictionary(grouping: outcomes, by: \.status).mapValues(\.count)
        let summary = OperatorOutcome.Status.allCases.compactMap { status in counts[status].map { "\($0) \(label(status))" } }.joined(separator: ", ")
        var rows = ""
        for outcome in outcomes {
            let id = outcome.taskID.uuidString.lowercased()
            rows += """
                <tr class="bulk-result" data-task-id="\(id)"><td><a href="/ui/tasks/\(id)">\(id)</a></td>
                <td class="outcome" data-status="\(outcome.status.rawValue)">\(glyph(outcome.status)) \(label(outcome.status))</td>
                <td>\(HTML.escape(outcome.message))</td><td>\(outcome.taskState.map { DashboardPage.taskState($0) } ?? "—")</td></tr>
                """
        }
        return """
            <p class="notice" id="notice" role="status">\(HTML.escape(kind.rawValue)) on \(outcomes.count) task\(outcomes.count == 1 ? "" : "s"): \(HTML.escape(summary)).</p>
            <table id="bulk-results"><thead><tr><th>Task</th><th>Result</th><th>Message</th><th>State now</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            <p><a href="/ui/tasks">Back to the tasks</a></p>
            """
    }

    static func label(_ status: OperatorOutcome.Status) -> String {
        switch status {
        case .applied: "applied"
        case .alreadyApplied: "already applied"
        case .refused: "refused"
        case .notFound: "not found"
        case .invalid: "not valid"
        }
    }

    private static func glyph(_ status: OperatorOutcome.Status) -> String {
        switch status {
        case .applied: "✓"
        case .alreadyApplied: "="
        case .refused: "✗"
        case .notFound, .invalid: "?"
        }
    }
}
