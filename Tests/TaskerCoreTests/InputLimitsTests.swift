import Foundation
import Testing
import TaskerCore

/// Each input limit is enforced where the input enters, through the decoder's usual error,
/// naming the limit and the actual amount; and the crashes and hangs the fuzzer found stay fixed.
@Suite struct InputLimitsTests {
    static func deepArray(_ depth: Int) -> String { String(repeating: "[", count: depth) + String(repeating: "]", count: depth) }
    static func deepObject(_ depth: Int) -> String {
        String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
    }

    // MARK: Task requests

    @Test func oversizedRequestBodyNamesTheLimit() {
        let body = Data(repeating: 0x20, count: InputLimit.taskRequestBody.maximum + 1)
        #expect {
            try TaskRequest.decode(body)
        } throws: { error in
            let rejection = error as! RequestRejection
            return rejection.limits == [InputLimit.taskRequestBody.exceeded(by: body.count)]
                && rejection.errors == ["task request body is 1048577 bytes; the limit is 1048576 bytes"]
        }
    }

    @Test func deeplyNestedRequestIsRefusedBeforeParsing() {
        // 100,000 levels: parsed, this would have gone through 100,000 nested decoders.
        let body = Data(#"{"namespace":"a","name":"b","context":{"x":\#(Self.deepArray(100_000))}}"#.utf8)
        #expect {
            try TaskRequest.decode(body)
        } throws: { error in
            let rejection = error as! RequestRejection
            return rejection.limits.first?.limit == .messageNestingDepth && rejection.limits.first?.actual == 100_002
                && rejection.errors == ["task request body is nested 100002 levels deep; the limit is 66 levels"]
        }
    }

    @Test func contextDepthIsLimited() throws {
        func request(contextDepth: Int) -> Data {
            // The context object is one level; `x` holds the rest.
            Data(#"{"namespace":"a","name":"b","context":{"x":\#(Self.deepObject(contextDepth - 1))}}"#.utf8)
        }
        let request64 = try TaskRequest.decode(request(contextDepth: 64))
        #expect(request64.context.nestingDepth == 64)
        #expect(throws: RequestRejection(
            ["'context' is nested 65 levels deep; the limit is 64 levels"],
            limits: [InputLimit.nestingDepth.exceeded(by: 65, in: "'context'")]
        )) {
            try TaskRequest.decode(request(contextDepth: 65))
        }
    }

    @Test func contextSizeIsLimitedAsCanonicalJSON() throws {
        // Whitespace does not count: the canonical form is what is stored and hashed.
        let limit = InputLimit.contextBytes.maximum
        let fits = String(repeating: "x", count: limit - #"{"s":""}"#.utf8.count)
        let spaced = Data(#"{"namespace":"a","name":"b","context":  {  "s" :  "\#(fits)"  }  }"#.utf8)
        #expect(try TaskRequest.decode(spaced).context.canonicalData().count == limit)
        let over = Data(#"{"namespace":"a","name":"b","context":{"s":"\#(fits)x"}}"#.utf8)
        #expect(throws: RequestRejection(
            ["'context' is \(limit + 1) bytes; the limit is \(limit) bytes"],
            limits: [InputLimit.contextBytes.exceeded(by: limit + 1, in: "'context'")]
        )) {
            try TaskRequest.decode(over)
        }
    }

    // MARK: JSON

    @Test func parserRefusesDeepTextWithAReason() {
        #expect {
            try JSONValue.parse(Self.deepArray(100_000))
        } throws: { error in
            let parseError = error as! JSONValue.ParseError
            return parseError.limit == InputLimit.parserNestingDepth.exceeded(by: 100_000)
                && "\(parseError)" == "JSON refused: JSON text is nested 100000 levels deep; the limit is 512 levels"
        }
        #expect(throws: Never.self) { try JSONValue.parse(Self.deepArray(512)) }
    }

    @Test func depthCountsBracketsOutsideStringsOnly() throws {
        let text = #"{"a":"[[[[{{{{\"]]","b":[[1]]}"#
        #expect(try JSONValue.parse(text).nestingDepth == 3)
        #expect(JSONValue.int(1).nestingDepth == 0)
        #expect(JSONValue.object([:]).nestingDepth == 1)
    }

    @Test func nestingDepthOfAVeryDeepValueDoesNotRecurse() {
        var value = JSONValue.null
        for _ in 0..<100_000 { value = .array([value]) }
        let depth = value.nestingDepth
        #expect(depth == 100_000)
        // Let go of it level by level: the enum's own destructor recurses.
        while case .array(let elements) = value, let inner = elements.first { value = inner }
    }

    // MARK: Step dispatch and results

    static func dispatch(context: JSONValue = [:], handlerConfig: JSONValue = [:], timeout: Double = 30) throws -> Data {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        return try WireCoding.encode(StepDispatch(
            taskID: UUID(), stepID: UUID(), stepName: "a", handler: "square", namespace: "examples", templateName: "t",
            templateVersion: "1.0.0", attempt: 1, maxAttempts: 3, context: context, parentResults: ["p": 1],
            handlerConfig: handlerConfig, timeoutSeconds: timeout, deadline: now, dispatchedAt: now))
    }

    @Test func oversizedMessagesNameTheirLimit() {
        let dispatch = Data(repeating: 0x20, count: InputLimit.stepDispatchBody.maximum + 1)
        #expect(throws: WireDecodingError(limit: InputLimit.stepDispatchBody.exceeded(by: dispatch.count))) {
            try WireCoding.decode(StepDispatch.self, from: dispatch)
        }
        let result = Data(repeating: 0x20, count: InputLimit.stepResultBody.maximum + 1)
        #expect {
            try WireCoding.decode(StepResultMessage.self, from: result)
        } throws: { error in
            "\(error)" == "undecodable message: step result body is 1048577 bytes; the limit is 1048576 bytes"
        }
    }

    @Test func deepMessagesAreRefusedBeforeParsing() {
        let body = Data(#"{"results":\#(Self.deepArray(200_000))}"#.utf8)
        #expect(throws: WireDecodingError(limit: InputLimit.messageNestingDepth.exceeded(by: 200_001, in: "step result body"))) {
            try WireCoding.decode(StepResultMessage.self, from: body)
        }
    }

    @Test func dispatchValuesAreLimitedOneByOne() throws {
        var deep = JSONValue.int(1)
        for _ in 0..<65 { deep = ["k": deep] }
        #expect(throws: WireDecodingError(limit: InputLimit.nestingDepth.exceeded(by: 65, in: "handler_config"))) {
            try WireCoding.decode(StepDispatch.self, from: try Self.dispatch(handlerConfig: deep))
        }
        #expect(throws: WireDecodingError(limit: InputLimit.nestingDepth.exceeded(by: 65, in: "context"))) {
            try WireCoding.decode(StepDispatch.self, from: try Self.dispatch(context: deep))
        }
        let fine = try WireCoding.decode(StepDispatch.self, from: try Self.dispatch(context: ["k": 1]))
        #expect(fine.context == ["k": 1])
    }

    /// Regression: a worker turned `timeout_seconds: 1e300` into a `Duration` and trapped.
    @Test func dispatchWithAnEndlessTimeoutIsRefused() throws {
        #expect(throws: WireDecodingError(reason: "timeout_seconds: 1e+300 is over the limit of 31536000 seconds")) {
            try WireCoding.decode(StepDispatch.self, from: try Self.dispatch(timeout: 1e300))
        }
        #expect(throws: Never.self) { try WireCoding.decode(StepDispatch.self, from: try Self.dispatch(timeout: 31_536_000)) }
    }

    @Test func numericDatesOutsideYears1To9999AreRefused() throws {
        let body = try Self.dispatch()
        var fields = try #require(try JSONValue.parse(body).objectValue)
        fields["deadline"] = .double(1e300)
        #expect {
            try WireCoding.decode(StepDispatch.self, from: JSONValue.object(fields).canonicalData())
        } throws: { error in
            "\(error)".contains("is not a date from year 1 to 9999")
        }
        fields["deadline"] = .double(253_402_300_799)
        #expect(throws: Never.self) { try WireCoding.decode(StepDispatch.self, from: JSONValue.object(fields).canonicalData()) }
    }

    // MARK: Templates

    static func problems(_ yaml: String) -> [TemplateProblem] {
        do {
            _ = try TemplateLoader().load(yaml: yaml, file: "limits.yaml")
            return []
        } catch {
            return error.problems
        }
    }

    @Test func oversizedTemplateNamesTheLimit() {
        let yaml = "name: big\ndescription: \(String(repeating: "x", count: 1 << 20))\nsteps: [{name: a, handler: h}]\n"
        let problems = Self.problems(yaml)
        #expect(problems.map(\.limit) == [InputLimit.templateBytes.exceeded(by: yaml.utf8.count)])
        #expect(problems.first?.description == "limits.yaml: template is \(yaml.utf8.count) bytes; the limit is 1048576 bytes")
    }

    @Test func stepCountIsLimited() throws {
        // A fan-out (a root and its children) as a JSON document: a YAML text this long would
        // meet the size limit first.
        func fanOut(_ count: Int) -> JSONValue {
            let steps: [JSONValue] = [["name": "root", "handler": "h"]]
                + (1..<count).map { ["name": .string("s\($0)"), "handler": "h", "depends_on": ["root"]] }
            return ["name": "wide", "steps": .array(steps)]
        }
        let limit = InputLimit.templateSteps.maximum
        #expect(try TemplateLoader().load(document: fanOut(limit), file: "wide.json").steps.count == limit)
        do {
            _ = try TemplateLoader().load(document: fanOut(limit + 1), file: "wide.json")
            Issue.record("a template over the step limit loaded")
        } catch {
            #expect(error.problems.map(\.message) == ["template has \(limit + 1) steps; the limit is \(limit) steps"])
            #expect(error.problems.first?.limit?.limit == .templateSteps)
        }
    }

    @Test func handlerConfigAndSchemaDepthAreLimited() {
        let deep = Self.deepObject(65)
        let problems = Self.problems("""
            name: deep
            context_schema: {type: object, properties: {a: \(String(repeating: "{properties: {a: ", count: 31)){} \(String(repeating: "}}", count: 31))}}
            steps:
              - {name: a, handler: h, handler_config: \(deep)}
            """)
        #expect(problems.map(\.description) == [
            "limits.yaml: context_schema is nested 65 levels deep; the limit is 64 levels",
            "limits.yaml: step 'a': handler_config is nested 65 levels deep; the limit is 64 levels",
        ])
    }

    @Test func deepYAMLIsRefusedWithoutOverflowingTheStack() {
        // Past libyaml's own limit of 1,000 levels: a parse error, not a crash.
        let flow = Self.problems("name: x\nsteps: \(Self.deepArray(50_000))\n")
        #expect(flow.count == 1 && flow[0].message.contains("Maximum nesting level"))
        // Under it: the template limit, with the actual depth.
        let block = (0..<200).map { String(repeating: " ", count: $0) + "-" }.joined(separator: "\n") + " x"
        #expect(Self.problems("name: x\nsteps:\n" + block).map(\.message) == ["template is nested 201 levels deep; the limit is 70 levels"])
    }

    /// Regression: Yams' constructor multiplied sexagesimal integers (`1:0:0:…`) without
    /// overflow checks and trapped, so loading this template killed the process.
    @Test func hugeSexagesimalIntegerIsAProblemNotATrap() throws {
        for number in ["1:0:0:0:0:0:0:0:0:0:0:0", "999999999999999999:59", "-1:0:0:0:0:0:0:0:0:0:0:0"] {
            let problems = Self.problems("name: t\nsteps:\n  - {name: a, handler: h, timeout_seconds: \(number)}\n")
            #expect(problems.map(\.message) == [
                "'timeout_seconds' must be a positive number of seconds up to 31536000 (365 days), got \"\(number)\""
            ])
        }
        // In range, YAML 1.1 sexagesimal integers still read as numbers.
        let template = try Fixtures.template("name: t\nsteps:\n  - {name: a, handler: h, timeout_seconds: 1:30}\n")
        #expect(template.steps[0].timeoutSeconds == 90)
    }

    /// Regression: `timeout_seconds: 1e300` or `.inf` loaded fine and later trapped a worker.
    @Test func durationsMustBeFiniteAndBounded() {
        for value in ["1e300", ".inf", ".nan", "31536001"] {
            let problems = Self.problems("""
                name: t
                defaults: {retry: {base_seconds: \(value), max_seconds: \(value)}}
                steps: [{name: a, handler: h, timeout_seconds: \(value)}]
                """)
            #expect(problems.count == 3, "\(value): \(problems)")
        }
    }

    /// Regression: aliases were expanded without bound, so 300 bytes of nested aliases
    /// ("billion laughs") made the loader run for minutes and take gigabytes.
    @Test func aliasesAreRefusedBeforeParsing() {
        var lines = ["name: bomb", "a0: &a0 [x,x,x,x,x,x,x,x,x,x]"]
        for level in 1..<10 { lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",") + "]") }
        lines.append("steps: [{name: s, handler: h, handler_config: *a9}]")
        #expect(Self.problems(lines.joined(separator: "\n")).map(\.message) == [
            "line 3: '*a0' reads as a YAML alias; aliases are not allowed in templates (write the value out)"
        ])
        // Alias keys too (Yams hashes every key, aliases expanded, to find duplicates).
        #expect(Self.problems("a: &a [1]\n? *a\n: x\n").first?.message.contains("'*a'") == true)
        // Text that only looks a little like an alias is fine.
        #expect(Self.problems("name: t\ndescription: \"cron */5 * * * *, a*b\"\nsteps: [{name: a, handler: h}]\n") == [])
    }

    @Test func unusualYAMLTagsAreValuesNotTraps() throws {
        let template = try Fixtures.template("""
            name: tags
            steps:
              - name: a
                handler: h
                handler_config:
                  set: !!set {? a, ? b}
                  omap: !!omap [a: 1, b: 2]
                  pairs: !!pairs [a: 1, a: 2]
                  bad_int: !!int nope
                  bad_float: !!float nope
                  binary: !!binary aGVsbG8=
                  stamp: 2001-12-14t21:59:43.10-05:00
                  custom: !mine {x: 1}
            """)
        let config = template.steps[0].handlerConfig
        #expect(config["set"] == ["a": nil, "b": nil])
        #expect(config["omap"] == [["a": 1], ["b": 2]])
        #expect(config["bad_int"] == "nope")
        #expect(config["binary"] == "aGVsbG8=")
        #expect(config["custom"] == ["x": 1])
        #expect(Self.problems("name: t\n[a]: 1\nsteps: [{name: a, handler: h}]\n").first?.message.contains("must be a string") == true)
    }

    @Test func jsonTemplatesHaveTheSameLimits() throws {
        let template = try TemplateLoader().load(json: Data(#"{"name":"j","steps":[{"name":"a","handler":"h"}]}"#.utf8), file: "j.json")
        #expect(template.steps.map(\.name) == ["a"])
        #expect {
            try TemplateLoader().load(json: Data(#"{"name":"j","steps":\#(Self.deepArray(100_000))}"#.utf8), file: "j.json")
        } throws: { error in
            let problems = (error as! TemplateLoadError).problems
            return problems.map(\.description) == ["j.json: JSON refused: template is nested 100001 levels deep; the limit is 70 levels"]
                && problems[0].limit?.limit == .templateNestingDepth
        }
        let big = Data(repeating: 0x20, count: InputLimit.templateBytes.maximum + 1)
        #expect(throws: TemplateLoadError(file: "j.json", problems: [
            TemplateProblem(file: "j.json", limit: InputLimit.templateBytes.exceeded(by: big.count))
        ])) {
            try TemplateLoader().load(json: big, file: "j.json")
        }
    }
}
