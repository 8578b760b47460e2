import Foundation
import Testing
@testable import TaskerAPI
import TaskerCore
import TaskerPostgres
import TaskerTestSupport

/// The dashboard's pure parts: escaping, the DAG's layout and labels, forms, sessions, cookies.
/// Its pages, sign-in and actions are tested in a real browser (ops/test-dashboard).
@Suite struct DashboardRenderingTests {
    @Test func htmlEscapingCoversTextAndAttributes() {
        #expect(HTML.escape("<script>alert('x') & \"y\"</script>") == "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;")
        #expect(HTML.query("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9")
    }

    @Test func theDAGIsLaidOutByDepthAndEveryNodeSaysItsStateInText() throws {
        let diagram = DAGDiagram(nodes: [
            .init(name: "end", parents: ["b", "c"], state: .pending, attempts: 0),
            .init(name: "start", parents: [], state: .complete, attempts: 1),
            .init(name: "b", parents: ["start"], state: .error, attempts: 3),
            .init(name: "c", parents: ["start"], state: .inProgress, attempts: 1),
        ], link: { "?step=\($0)" }, selected: "b")
        let svg = diagram.render()
        #expect(svg.hasPrefix("<svg"))
        // Three columns (depth 0, 1, 2), two rows: 12 + 3*170 + 2*60 + 12 wide.
        #expect(svg.contains("width=\"654\""))
        #expect(svg.contains("data-step=\"end\" data-state=\"pending\""))
        #expect(svg.contains("✗ error"))
        #expect(svg.contains("▶ in progress"))
        #expect(svg.contains("attempts: 3"))
        #expect(svg.contains("<polygon"))  // a failed step is an octagon, not only red
        #expect(svg.contains("class=\"node st-error selected\""))
        // end sits in the third column: x = 12 + 2 * 230.
        #expect(svg.contains("x=\"472.0\" y=\"12.0\""))
        #expect(svg.components(separatedBy: "class=\"edge\"").count - 1 == 4)
    }

    @Test func stepNamesAreEscapedInTheDAG() {
        let svg = DAGDiagram(nodes: [.init(name: "<b>&", parents: [], state: .pending, attempts: 0)], link: nil, selected: nil).render()
        #expect(svg.contains("data-step=\"&lt;b&gt;&amp;\""))
        #expect(!svg.contains("<b>"))
    }

    @Test func formsAreDecoded() {
        let form = DashboardForm("reason=because+it%27s+stuck&results=%7B%22a%22%3A1%7D&empty=&csrf_token=abc")
        #expect(form["reason"] == "because it's stuck")
        #expect(form["results"] == "{\"a\":1}")
        #expect(form.text("empty") == nil)
        #expect(form["csrf_token"] == "abc")
    }

    @Test func sessionsAreOpaqueExpireAndCarryTheirOwnCSRFToken() {
        let sessions = DashboardSessions(lifetime: 60)
        let now = Date()
        let a = sessions.create(for: Principal(name: "a", scopes: [.tasksRead], method: .apiKey), now: now)
        let b = sessions.create(for: Principal(name: "b", scopes: [.tasksRead], method: .apiKey), now: now)
        #expect(a.id.count == 64 && a.id != b.id && a.csrfToken != b.csrfToken)
        #expect(sessions.find(a.id, now: now)?.principal.name == "a")
        #expect(sessions.find(a.id, now: now + 61) == nil)
        #expect(DashboardActionRoutes.validToken(DashboardForm("csrf_token=\(b.csrfToken)"), b))
        #expect(!DashboardActionRoutes.validToken(DashboardForm("csrf_token=\(a.csrfToken)"), b))
        #expect(!DashboardActionRoutes.validToken(DashboardForm("reason=x"), b))
        sessions.delete(b.id)
        #expect(sessions.find(b.id, now: now) == nil)
    }

    @Test func cookiesAreSecureUnlessTheAPIListensOnLoopback() {
        #expect(!DashboardConfiguration.forHost("127.0.0.1", environment: [:]).secureCookies)
        #expect(DashboardConfiguration.forHost("0.0.0.0", environment: [:]).secureCookies)
        #expect(DashboardConfiguration.forHost("127.0.0.1", environment: ["TASKER_DASHBOARD_SECURE_COOKIES": "true"]).secureCookies)
        let session = DashboardSession(id: "s1", principal: Principal(name: "a", scopes: [], method: .apiKey), csrfToken: "t", expires: Date())
        let cookie = DashboardCookies(secure: true, lifetime: 3600).set(session)
        #expect(cookie == "tasker_session=s1; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=3600; Secure")
    }

    @Test func aTemplateWrittenBackAsYAMLLoadsAsTheSameTemplate() throws {
        let directory = packageRoot.appendingPathComponent("templates/examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 5)
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            let template = try TemplateLoader(environment: "test").load(yaml: text, file: file)
            let yaml = TemplateYAML.render(template.definition)
            let again = try TemplateLoader().load(yaml: yaml, file: "\(file) as rendered")
            #expect(again.definition == template.definition, "\(file):\n\(yaml)")
            #expect(yaml.hasPrefix("name: \(template.name)\nnamespace: "))
        }
        #expect(TemplateYAML.render(["a": "yes", "b": "1.5", "c": "x: y", "d": ["k": [1, 2]], "e": .array([])]) == """
            a: "yes"
            b: "1.5"
            c: "x: y"
            d: { k: [1, 2] }
            e: []

            """)
    }

    @Test func theThroughputChartDrawsEveryMinuteOnOneScaleAndSaysItsNumbers() {
        let start = Date(timeIntervalSince1970: 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: 60))
        var minutes: [StepOutcomeMinute] = []
        for index in 0..<60 {
            let minute = start.addingTimeInterval(Double(index) * 60)
            minutes.append(StepOutcomeMinute(minute: minute, completed: index == 59 ? 40 : 0, failed: index == 58 ? 2 : 0, retried: index == 58 ? 1 : 0))
        }
        let chart = ThroughputChart(minutes: minutes)
        #expect(chart.totals.completed == 40 && chart.totals.failed == 2 && chart.totals.retried == 1)
        let svg = chart.render()
        #expect(svg.components(separatedBy: "<g class=\"minute\">").count == 61)
        #expect(svg.contains("40 completed, 0 failed, 0 retried"))
        #expect(svg.contains("0 completed, 2 failed, 1 retried"))
        #expect(svg.contains("class=\"completed\" x=") && svg.contains("class=\"failed\" x=") && svg.contains("class=\"retried\" x="))
        #expect(svg.contains(">40/min<"))
        // The table lists only minutes with outcomes, newest first.
        #expect(chart.tableRows().components(separatedBy: "<tr>").count == 3)
    }
}
