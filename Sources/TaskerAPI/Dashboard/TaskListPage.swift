internal import Foundation
internal import TaskerCore
internal import TaskerPostgres

/// The tasks list: filters (a GET form, so it works without JS), a table, the next page's
/// link, and, with `tasks:operate`, checkboxes and the bulk cancel/retry form.
enum TaskListPage {
    static func render(page: Page<TaskRecord>, query: TaskListQuery, session: DashboardSession) -> String {
        var options = "<option value=\"\">any</option>"
        for candidate in TaskState.allCases {
            options += "<option value=\"\(candidate.rawValue)\"\(candidate == query.state ? " selected" : "")>\(candidate.rawValue)</option>"
        }
        var next = ""
        if let cursor = page.next {
            let parameters = ["cursor=\(HTML.query(cursor.token))"] + query.parameters
            next = "<p><a id=\"next-page\" href=\"/ui/tasks?\(HTML.escape(parameters.joined(separator: "&")))\">Next page →</a></p>"
        }
        func field(_ id: String, _ name: String, _ label: String, _ value: String?, placeholder: String = "", size: Int = 20) -> String {
            "<div><label for=\"\(id)\">\(label)</label><input id=\"\(id)\" name=\"\(name)\" size=\"\(size)\" "
                + "placeholder=\"\(HTML.escape(placeholder))\" value=\"\(HTML.escape(value ?? ""))\"></div>"
        }
        let selectable = session.principal.has(.tasksOperate) && !page.items.isEmpty
        let bulk = selectable ? """
            <form method="post" action="/ui/tasks/bulk" id="bulk" class="filters bulk">\(DashboardPage.csrfField(session))
            <div><label for="bulk-reason">Reason (for the selected tasks)</label>\
            <input id="bulk-reason" name="reason" required size="36" value="bulk action from the dashboard"></div>
            <div><button type="submit" name="action" value="cancel" id="bulk-cancel">Cancel selected</button> \
            <button type="submit" name="action" value="retry" id="bulk-retry">Retry selected</button></div>
            </form>
            """ : ""
        return """
            <form method="get" action="/ui/tasks" class="filters" id="filters">
            <div><label for="f-state">State</label><select id="f-state" name="state">\(options)</select></div>
            \(field("f-namespace", "namespace", "Namespace", query.namespace))
            \(field("f-name", "name", "Template", query.name))
            \(field("f-created-after", "created_after", "Created after (UTC)", query.createdAfter, placeholder: "2026-11-30T12:00"))
            \(field("f-created-before", "created_before", "Created before (UTC)", query.createdBefore, placeholder: "2026-11-30T13:00"))
            \(field("f-idempotency-key", "idempotency_key", "Idempotency key", query.idempotencyKey))
            <div><button type="submit" id="apply-filters">Filter</button> <a href="/ui/tasks">Clear</a></div>
            </form>
            <form method="get" action="/ui/tasks" class="filters" id="find-task">
            <div><label for="f-task-id">Task id</label><input id="f-task-id" name="task_id" size="38"></div>
            <div><button type="submit" id="find">Open</button></div>
            </form>
            \(bulk)
            \(table(page.items, id: "tasks", selectable: selectable))
            \(next)
            """
    }

    /// The tasks as a table; `selectable` adds a checkbox per row belonging to the `#bulk` form.
    static func table(_ tasks: [TaskRecord], id: String, selectable: Bool = false) -> String {
        guard !tasks.isEmpty else { return "<p id=\"\(id)\" class=\"empty\">No tasks.</p>" }
        var rows = ""
        for task in tasks {
            let taskID = task.id.uuidString.lowercased()
            let select = selectable
                ? "<td><input type=\"checkbox\" class=\"select-task\" name=\"task_id\" value=\"\(taskID)\" form=\"bulk\" aria-label=\"select task \(taskID)\"></td>"
                : ""
            rows += """
                <tr class="task-row" data-task-id="\(taskID)">\(select)<td><a href="/ui/tasks/\(taskID)">\(taskID)</a></td>
                <td>\(HTML.escape(task.template.description))</td><td>\(DashboardPage.taskState(task.state))</td>
                <td>\(task.counts.done)/\(task.counts.total) done\(task.counts.error > 0 ? ", \(task.counts.error) failed" : "")</td>
                <td>\(DashboardPage.time(task.createdAt))</td><td>\(DashboardPage.time(task.updatedAt))</td></tr>
                """
        }
        let selectAll = selectable ? "<th><input type=\"checkbox\" id=\"select-all\" aria-label=\"select every task on this page\"></th>" : ""
        return """
            <table id="\(id)"><thead><tr>\(selectAll)<th>Task</th><th>Template</th><th>State</th><th>Steps</th><th>Created</th><th>Updated</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """
    }
}
