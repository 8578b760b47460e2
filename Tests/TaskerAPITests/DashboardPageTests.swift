import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TaskerAPI
import TaskerCore
import TaskerPostgres
import TaskerTestSupport

/// Does not follow redirects, so a test sees the sign-in's `Set-Cookie` and each 303.
final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

/// A signed-in dashboard user over real HTTP: the session cookie and its CSRF token.
struct DashboardUser: Sendable {
    let baseURL: URL
    let session: URLSession
    var cookie = ""
    var csrfToken = ""

    init(port: Int) {
        baseURL = URL(string: "http://127.0.0.1:\(port)")!
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }

    func send(_ method: String, _ path: String, form: [(String, String)]? = nil) async throws -> (status: Int, location: String?, cookie: String?, html: String) {
        var request = URLRequest(url: URL(string: path, relativeTo: baseURL)!)
        request.httpMethod = method
        if !cookie.isEmpty { request.setValue(cookie, forHTTPHeaderField: "Cookie") }
        if let form {
            request.httpBody = Data(form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&").utf8)
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        return (http.statusCode, http.value(forHTTPHeaderField: "Location"), http.value(forHTTPHeaderField: "Set-Cookie"), String(decoding: data, as: UTF8.self))
    }

    mutating func signIn(key: String) async throws {
        let answer = try await send("POST", "/ui/login", form: [("api_key", key)])
        #expect(answer.status == 303)
        cookie = String(try #require(answer.cookie).split(separator: ";")[0])
        let page = try await send("GET", "/ui/overview")
        csrfToken = try #require(DashboardUser.first(#"name="csrf_token" value="([0-9a-f]+)""#, in: page.html))
    }

    /// The first capture of `pattern` in `text`.
    static func first(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), match.numberOfRanges > 1,
            let range = Range(match.range(at: 1), in: text)
        else { return nil }
        return String(text[range])
    }

    /// Every first capture of `pattern` in `text`.
    static func all(_ pattern: String, in text: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }
}

extension APITests {
    /// The dashboard's pages over real HTTP, against PostgreSQL, RabbitMQ and a running pipeline
    /// (the browser tests, ops/test-dashboard, drive the same pages in Chromium).
    @Suite struct DashboardPages {
        @Test func overviewSearchBulkCancelAndTemplateSource() async throws {
            let dashboardKey = APIKeyring.generate(name: "dashboard", scopes: Set(APIScope.all))
            let authenticator = Authenticator(keyring: APIKeyring([dashboardKey.entry]), jwt: nil, open: false)
            var options = APIHarness.Options(operatorActions: true)
            options.extendRouter = { router, dependencies in
                Dashboard.register(on: router, dependencies: dependencies, authenticator: authenticator, configuration: .init(secureCookies: false))
            }
            try await APIHarness.run(options) { api async throws in
                var user = DashboardUser(port: Int(api.client.baseURL.port ?? 0))
                try await user.signIn(key: dashboardKey.key)
                let ns = api.namespace

                // Steps per minute: a finished three-step task shows among the last hour's completions.
                let queries = TaskQueries(database: api.database, logger: api.logger)
                let before = try await queries.stepOutcomesPerMinute().reduce(0) { $0 + $1.completed }
                let done = try await api.submitted("linear", context: ["even_number": 2])
                #expect(try await api.waitForTask(done)["state"] == "complete")
                let minutes = try await queries.stepOutcomesPerMinute()
                #expect(minutes.count == 60)
                #expect(zip(minutes, minutes.dropFirst()).allSatisfy { $1.minute.timeIntervalSince($0.minute) == 60 })
                #expect(abs(minutes.last!.minute.timeIntervalSinceNow) < 120)
                #expect(minutes.reduce(0) { $0 + $1.completed } >= before + 3)

                // The overview: the worker on the namespace's step queue, queue depths, dead letters, the chart.
                let overview = try await user.send("GET", "/ui/overview")
                #expect(overview.status == 200)
                let stepsQueue = api.topology.stepsQueue(namespace: ns)
                let queueRow = try #require(DashboardUser.first(#"(<tr class="queue" data-queue="\#(stepsQueue)">.*?</tr>)"#, in: overview.html))
                #expect(DashboardUser.first(#"class="consumers">(\d+)<"#, in: queueRow) == "1")
                #expect(DashboardUser.first(#"class="messages">(\d+)<"#, in: queueRow) != nil)
                #expect(DashboardUser.first(#"<tr data-namespace="\#(ns)"><td>[^<]*</td><td class="workers">(\d+)</td>"#, in: overview.html) == "1")
                #expect(DashboardUser.first(#"id="dead-letter-count"><a href="/ui/dlq">(\d+)</a>"#, in: overview.html) != nil)
                let completed = Int(DashboardUser.first(#"id="steps-completed" data-count="(\d+)""#, in: overview.html) ?? "") ?? 0
                #expect(completed >= 3)
                #expect(overview.html.contains("<svg") && overview.html.contains("class=\"throughput\""))

                // Search by idempotency key (no template named: every caller-keyed template) and by time range.
                let key = "dash-\(UUID().uuidString.prefix(8))"
                let keyed = try await api.submitted("keyed", context: ["even_number": 2], extra: ["idempotency_key": .string(key)])
                let byKey = try await user.send("GET", "/ui/tasks?idempotency_key=\(key)")
                #expect(DashboardUser.all(#"<tr class="task-row" data-task-id="([0-9a-f-]+)""#, in: byKey.html) == [keyed])
                let created = try #require(try await api.client.get("/v1/tasks/\(keyed)", .apiKey(api.keys.reader)).json?["created_at"]?.stringValue)
                let createdAt = try #require(APITime.parse(created))
                let window = "created_after=\(created)&created_before=\(APITime.format(createdAt.addingTimeInterval(0.001)))&namespace=\(ns)"
                let byTime = try await user.send("GET", "/ui/tasks?\(window.replacingOccurrences(of: ":", with: "%3A"))")
                #expect(DashboardUser.all(#"<tr class="task-row" data-task-id="([0-9a-f-]+)""#, in: byTime.html) == [keyed])
                #expect(try await user.send("GET", "/ui/tasks?created_after=last+tuesday").status == 400)

                // Bulk cancel of two running tasks: one POST, both cancelled, each one's result on the page.
                let slow = [
                    try await api.submitted("linear", context: ["even_number": 4, "sleep_ms": ["step_1": 30_000]]),
                    try await api.submitted("linear", context: ["even_number": 6, "sleep_ms": ["step_1": 30_000]]),
                ]
                let fields = [("csrf_token", user.csrfToken), ("reason", "bulk from the test"), ("action", "cancel")] + slow.map { ("task_id", $0) }
                let forged = try await user.send("POST", "/ui/tasks/bulk", form: Array(fields.dropFirst()))
                #expect(forged.status == 403)
                let bulk = try await user.send("POST", "/ui/tasks/bulk", form: fields + [("task_id", done)])
                #expect(bulk.status == 200)
                let results = DashboardUser.all(#"<tr class="bulk-result" data-task-id="[0-9a-f-]+">.*?data-status="([a-z_]+)""#, in: bulk.html.replacingOccurrences(of: "\n", with: " "))
                #expect(results == ["applied", "applied", "refused"])
                for id in slow { #expect(try await api.client.get("/v1/tasks/\(id)", .apiKey(api.keys.reader)).json?["state"] == "cancelled") }

                // A template's page: its definition as YAML (loads back to the same template) and its latest tasks.
                let template = try await user.send("GET", "/ui/templates/\(ns)/linear")
                #expect(template.status == 200)
                let source = try #require(DashboardUser.first(#"<pre id="template-source">([^<]*)</pre>"#, in: template.html))
                let yaml = source.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
                    .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
                let registered = try #require(try await TemplateQueries(database: api.database, logger: api.logger).templates(namespace: ns, name: "linear").last)
                #expect(try TemplateLoader().load(yaml: yaml, file: "page").contentHash == registered.template.contentHash)
                #expect(template.html.contains("data-task-id=\"\(slow[1])\""))
                #expect(try await user.send("GET", "/ui/templates/\(ns)/no_such_template").status == 404)
            }
        }
    }
}
