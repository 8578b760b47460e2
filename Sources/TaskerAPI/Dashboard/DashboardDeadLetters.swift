internal import Foundation
internal import Hummingbird
internal import Logging
internal import TaskerWire

/// `GET /ui/dlq`: dead-lettered messages with their reason and source queue; `POST
/// /ui/dlq/{message_id}/replay` sends one back to its queue, `POST /ui/dlq/{message_id}/discard`
/// removes it for good. All need `dlq:operate`; the POSTs also the session's CSRF token
/// (``DashboardActionGuard``). The same broker link and queue library as `/v1/dlq`.
struct DashboardDeadLetters: Sendable {
    let dependencies: APIDependencies
    let sessions: DashboardSessions

    func register(on ui: RouterGroup<APIRequestContext>) {
        ui.get("dlq") { request, _ in try await list(request) }
        ui.post("dlq/{message_id}/replay") { request, context in try await act(.replay, request, context) }
        ui.post("dlq/{message_id}/discard") { request, context in try await act(.discard, request, context) }
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
            var buttons = ""
            if !letter.messageID.isEmpty {
                let path = "/ui/dlq/\(HTML.escape(HTML.pathSegment(letter.messageID)))"
                buttons = """
                    <form method="post" action="\(path)/replay" class="inline">\(DashboardPage.csrfField(session))\
                    <button type="submit" class="replay">Replay</button></form> \
                    <form method="post" action="\(path)/discard" class="inline">\(DashboardPage.csrfField(session))\
                    <button type="submit" class="discard">Discard</button></form>
                    """
            }
            rows += """
                <tr class="dead-letter" data-message-id="\(HTML.escape(letter.messageID))"><td>\(HTML.escape(letter.messageID.isEmpty ? "—" : letter.messageID))</td>
                <td>\(HTML.escape(letter.type ?? "—"))</td><td class="reason">\(HTML.escape(letter.reason))</td><td>\(HTML.escape(letter.sourceQueue))</td>
                <td>\(letter.deaths)</td><td><code>\(HTML.escape(letter.preview()))</code></td><td class="buttons">\(buttons)</td></tr>
                """
        }
        let body = """
            \(notice)<p>Replay sends a message back to the queue it came from; Discard deletes it for good. \
            Messages without a message id can only be purged (<code>tasker dlq purge</code>).</p>
            <table id="dead-letters"><thead><tr><th>Message id</th><th>Type</th><th>Reason</th><th>Source queue</th><th>Deaths</th><th>Body</th><th></th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """
        return DashboardPage.response(title: "Dead letters", session: session, body: body)
    }

    enum Action: String { case replay, discard }

    func act(_ action: Action, _ request: Request, _ context: APIRequestContext) async throws -> Response {
        let session: DashboardSession
        switch try await DashboardActionGuard.check(request, context, sessions: sessions, scope: .dlqOperate) {
        case .refused(let page): return page
        case .allowed(let allowed, _): session = allowed
        }
        let id = context.parameters.get("message_id") ?? ""
        let done = try await dependencies.broker.withDeadLetterQueue("dead-letter \(action.rawValue)") { queue in
            switch action {
            case .replay: try await queue.replay(messageID: id, searchLimit: DeadLetterRoutes.searchLimit)
            case .discard: try await queue.discard(messageID: id, searchLimit: DeadLetterRoutes.searchLimit)
            }
        }
        guard let letter = done else {
            return DashboardPage.message(.notFound, title: "Not found", "No dead-lettered message has that id.", session: session, back: "/ui/dlq")
        }
        context.logger.info(
            action == .replay ? "dead-lettered message replayed" : "dead-lettered message discarded",
            metadata: ["amqp.message_id": "\(letter.messageID)", "amqp.queue": "\(letter.sourceQueue)", "tasker.api.caller": "\(session.principal.name)"])
        let notice = action == .replay ? "replayed \(letter.messageID) to \(letter.sourceQueue)" : "discarded \(letter.messageID) (from \(letter.sourceQueue))"
        return Response(status: .seeOther, headers: [.location: "/ui/dlq?notice=\(HTML.query(notice))"])
    }
}
