internal import Foundation
internal import TaskerCore
internal import TaskerPostgres

/// The tasks list: filters (a GET form, so it works without JS), a table, and the next page's link.
enum TaskListPage {
    static func render(page: Page<TaskRecord>, state: TaskState?, namespace: String?, name: String?) -> String {
        var options = "<option value=\"\">any</option>"
        for candidate in TaskState.allCases {
            options += "<option value=\"\(candidate.rawValue)\"\(candidate == state ? " selected" : "")>\(candidate.rawValue)</option>"
        }
        var next = ""
        if let cursor = page.next {
            var parameters = ["cursor=\(HTML.query(cursor.token))"]
            if let state { parameters.append("state=\(state.rawValue)") }
            if let namespace { parameters.append("namespace=\(HTML.query(namespace))") }
            if let name { parameters.append("name=\(HTML.query(name))") }
            next = "<p><a id=\"next-page\" href=\"/ui/tasks?\(HTML.escape(parameters.joined(separator: "&")))\">Next page →</a></p>"
        }
        return """
            <form method="get" action="/ui/tasks" class="filters" id="filters">
            <div><label for="f-state">State</label><select id="f-state" name="state">\(options)</select></div>
            <div><label for="f-namespace">Namespace</label><input id="f-namespace" name="namespace" value="\(HTML.escape(namespace ?? ""))"></div>
            <div><label for="f-name">Template</label><input id="f-name" name="name" value="\(HTML.escape(name ?? ""))"></div>
            <div><button type="submit" id="apply-filters">Filter</button> <a href="/ui/tasks">Clear</a></div>
            </form>
            <form method="get" action="/ui/tasks" class="filters" id="find-task">
            <div><label for="f-task-id">Task id</label><input id="f-task-id" name="task_id" size="38"></div>
            <div><button type="submit" id="find">Open</button></div>
            </form>
            \(table(page.items, id: "tasks"))
            \(next)
            """
    }

    static func table(_ tasks: [TaskRecord], id: String) -> String {
        guard !tasks.isEmpty else { return "<p id=\"\(id)\" class=\"empty\">No tasks.</p>" }
        var rows = ""
        for task in tasks {
            let taskID = task.id.uuidString.lowercased()
            rows += """
                <tr class="task-row" data-task-id="\(taskID)"><td><a href="/ui/tasks/\(taskID)">\(taskID)</a></td>
                <td>\(HTML.escape(task.template.description))</td><td>\(DashboardPage.taskState(task.state))</td>
                <td>\(task.counts.done)/\(task.counts.total) done\(task.counts.error > 0 ? ", \(task.counts.error) failed" : "")</td>
                <td>\(DashboardPage.time(task.createdAt))</td><td>\(DashboardPage.time(task.updatedAt))</td></tr>
                """
        }
        return """
            <table id="\(id)"><thead><tr><th>Task</th><th>Template</th><th>State</th><th>Steps</th><th>Created</th><th>Updated</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """
    }
}
