internal import Foundation
internal import Hummingbird
internal import HTTPTypes
internal import NIOCore
internal import TaskerCore

/// The frame of every dashboard page: navigation, who is signed in, sign-out, and strict
/// response headers (CSP without inline script, no framing, no caching).
enum DashboardPage {
    static func response(
        title: String, session: DashboardSession?, body: String, status: HTTPResponse.Status = .ok, refreshSeconds: Int? = nil,
        refreshWithScript: Bool = false
    ) -> Response {
        var nav = ""
        if let session {
            nav = """
                <a href="/ui/overview">Overview</a> <a href="/ui/tasks">Tasks</a> <a href="/ui/templates">Templates</a>\(session.principal.has(.dlqOperate) ? " <a href=\"/ui/dlq\">Dead letters</a>" : "")
                <span class="who">Signed in as <strong>\(HTML.escape(session.principal.name))</strong>
                (\(HTML.escape(session.principal.scopes.sorted().map(\.rawValue).joined(separator: ", "))))</span>
                <form method="post" action="/ui/logout">\(csrfField(session))<button type="submit" id="sign-out">Sign out</button></form>
                """
        }
        // Pages that update themselves with JS (the task page) reload only when JS is off.
        let refresh = refreshSeconds.map { seconds in
            let meta = "<meta http-equiv=\"refresh\" content=\"\(seconds)\">"
            return refreshWithScript ? meta : "<noscript>\(meta)</noscript>"
        } ?? ""
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) · Tasker</title>\(refresh)
            <link rel="stylesheet" href="/ui/assets/app.css"></head>
            <body><header class="top"><strong>Tasker</strong> \(nav)</header>
            <main><h1>\(HTML.escape(title))</h1>
            \(body)
            </main><script src="/ui/assets/app.js"></script></body></html>
            """
        return Response(status: status, headers: htmlHeaders, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static let htmlHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
    ]

    /// The hidden CSRF field every POST form carries.
    static func csrfField(_ session: DashboardSession) -> String {
        "<input type=\"hidden\" name=\"csrf_token\" value=\"\(HTML.escape(session.csrfToken))\">"
    }

    /// A page that only says something (errors, refusals).
    static func message(_ status: HTTPResponse.Status, title: String, _ text: String, session: DashboardSession?, back: String? = nil) -> Response {
        let link = back.map { "<p><a href=\"\(HTML.escape($0))\">Back</a></p>" } ?? ""
        return response(title: title, session: session, body: "<p class=\"error-box\" id=\"message\">\(HTML.escape(text))</p>\(link)", status: status)
    }

    static func login(error: String?, status: HTTPResponse.Status = .ok) -> Response {
        let problem = error.map { "<p class=\"error-box\" id=\"login-error\">\(HTML.escape($0))</p>" } ?? ""
        return response(title: "Sign in", session: nil, body: """
            \(problem)
            <form method="post" action="/ui/login" class="panel">
            <label for="api-key">API key</label>
            <input type="password" id="api-key" name="api_key" autocomplete="off" required size="60">
            <button type="submit" id="sign-in">Sign in</button>
            <p>The key is checked once; the browser then holds only a session cookie (see docs/dashboard.md).</p>
            </form>
            """, status: status)
    }

    /// A state as text with its glyph (never colour alone).
    static func taskState(_ state: TaskState, id: String? = nil) -> String {
        let idAttribute = id.map { " id=\"\($0)\"" } ?? ""
        return "<span class=\"state state-\(state.rawValue)\" data-state=\"\(state.rawValue)\"\(idAttribute)>\(HTML.escape(taskStateLabel(state)))</span>"
    }

    static func taskStateLabel(_ state: TaskState) -> String {
        let glyph = switch state {
        case .pending: "○"
        case .inProgress: "▶"
        case .complete: "✓"
        case .error: "✗"
        case .cancelled: "⊘"
        case .resolvedManually: "✎"
        }
        return "\(glyph) \(state.rawValue.replacingOccurrences(of: "_", with: " "))"
    }

    static func time(_ date: Date?) -> String { date.map { HTML.escape(APITime.format($0)) } ?? "—" }

    /// JSON pretty-printed with sorted keys, HTML-escaped.
    static func json(_ value: JSONValue?) -> String {
        guard let value else { return "—" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value), let text = String(data: data, encoding: .utf8) else {
            return HTML.escape(value.canonicalString)
        }
        return HTML.escape(text)
    }
}
