internal import Foundation
internal import Hummingbird
internal import Logging
internal import TaskerWire

/// `GET /ui/dlq`: dead-lettered messages with their reason and source queue; `POST
/// /ui/dlq/{message_id}/replay` sends one back to its queue. Both need `dlq:operate`; the POST
/// also the session's CSRF token. The same broker link and queue library as `/v1/dlq`.
struct DashboardDeadLetters: Sendable {
    let dependencies: APIDependencies
    let sessions: DashboardSessions

    func register(on ui: RouterGroup<APIRequestContext>) {
        ui.get("dlq") { request, _ in try await list(request) }
        ui.post("dlq/{message_id}/replay") { request, context in try await replay(request, context) }
    }

    func list(_ request: Request) async throws -> Response {
        guard let session = sessions.current(request) else { return Response(status: .seeOther, headers: [.location: "/ui/login"]) }
        guard session.principal.has(.dlqOperate) else {
            return DashboardPage.message(.forbidden, title: "Not allowed", "Your key lacks the scope dlq:operate.", session: session)
        }
        let letters = try await dependencies.broker.withDeadLetterQueue("dead-letter list") { try await $0.list(limit: 200) }
        let notice = request.uri.queryParameters["notice"].map { "<p class=\"notice\" id=\"notice\" role=\"status\">\(HTML.escape(String($0)))</p>" } ?? ""
        guard !letters.isEmpty else {
            return DashboardPage.response(title: "Dead letters", session: session, body: notice + "<p id=\"dead-letters\" class=\"empty\">No dead-lettered messages.</p>")
        }
        var rows = ""
        for letter in letters {
            var replay = ""
            if !letter.messageID.isEmpty {
                replay = """
                    <form method="post" action="/ui/dlq/\(HTML.escape(HTML.pathSegment(letter.messageID)))/replay">\(DashboardPage.csrfField(session))\
                    <button type="submit" class="replay">Replay</button></form>
                    """
            }
            rows += """
                <tr class="dead-letter" data-message-id="\(HTML.escape(letter.messageID))"><td>\(HTML.escape(letter.messageID.isEmpty ? "—" : letter.messageID))</td>
                <td>\(HTML.escape(letter.type ?? "—"))</td><td class="reason">\(HTML.escape(letter.reason))</td><td>\(HTML.escape(letter.sourceQueue))</td>
                <td>\(letter.deaths)</td><td><code>\(HTML.escape(letter.preview()))</code></td><td>\(replay)</td></tr>
                """
        }
        let body = """
            \(notice)<table id="dead-letters"><thead><tr><th>Message id</th><th>Type</th><th>Reason</th><th>Source queue</th><th>Deaths</th><th>Body</th><th></th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """
        return DashboardPage.response(title: "Dead letters", session: session, body: body)
    }

    func replay(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        guard let session = sessions.current(request) else {
            return DashboardPage.message(.unauthorized, title: "Sign in", "Sign in first: your session is missing or has expired.", session: nil, back: "/ui/login")
        }
        let form = try await DashboardForm.read(request, context: context)
        guard DashboardActionRoutes.validToken(form, session) else {
            return DashboardPage.message(.forbidden, title: "Refused", "The form's CSRF token is missing or wrong.", session: session)
        }
        guard session.principal.has(.dlqOperate) else {
            return DashboardPage.message(.forbidden, title: "Refused", "Your key lacks the scope dlq:operate.", session: session)
        }
        let id = context.parameters.get("message_id") ?? ""
        let replayed = try await dependencies.broker.withDeadLetterQueue("dead-letter replay") {
            try await $0.replay(messageID: id, searchLimit: DeadLetterRoutes.searchLimit)
        }
        guard let letter = replayed else {
            return DashboardPage.message(.notFound, title: "Not found", "No dead-lettered message has that id.", session: session, back: "/ui/dlq")
        }
        context.logger.info(
            "dead-lettered message replayed",
            metadata: ["amqp.message_id": "\(letter.messageID)", "amqp.queue": "\(letter.sourceQueue)", "tasker.api.caller": "\(session.principal.name)"])
        return Response(status: .seeOther, headers: [.location: "/ui/dlq?notice=\(HTML.query("replayed \(letter.messageID) to \(letter.sourceQueue)"))"])
    }
}
