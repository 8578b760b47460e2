import Foundation
import Testing
import TaskerCore

@Suite struct TemplateLoaderTests {
    static let orderYAML = """
        name: order_fulfillment
        namespace: ecommerce
        version: 1.2.0
        description: Fulfil an order
        context_schema: { type: object, required: [order_id], properties: { order_id: { type: integer } } }
        defaults: { retry: { max_attempts: 4, backoff: exponential, base_seconds: 2, max_seconds: 30 }, timeout_seconds: 120 }
        steps:
          - name: validate_order
            handler: ValidateOrder
            depends_on: []
            retry: { retryable: true, max_attempts: 2 }
            timeout_seconds: 30
            handler_config: { strict: true }
          - { name: reserve_inventory, handler: ReserveInventory, depends_on: [validate_order] }
        environments:
          test: { steps: [ { name: validate_order, timeout_seconds: 5 } ], defaults: { retry: { base_seconds: 0.1 } } }
        """

    @Test func loadsEveryDocumentedField() throws {
        let template = try Fixtures.template(Self.orderYAML)
        #expect(template.key.description == "ecommerce/order_fulfillment@1.2.0")
        #expect(template.description == "Fulfil an order")
        #expect(template.identityStrategy == .strict)
        #expect(template.contextSchema != nil)
        let validate = try #require(template.step(named: "validate_order"))
        #expect(validate.handler == "ValidateOrder")
        #expect(validate.retry.maxAttempts == 2)
        #expect(validate.retry.backoff.baseSeconds == 2)
        #expect(validate.timeoutSeconds == 30)
        #expect(validate.handlerConfig == ["strict": true])
        let reserve = try #require(template.step(named: "reserve_inventory"))
        #expect(reserve.retry.maxAttempts == 4)
        #expect(reserve.timeoutSeconds == 120)
        #expect(reserve.dependsOn == ["validate_order"])
        #expect(template.graph.roots == [0])
    }

    @Test func defaultsApplyWhenFieldsAreOmitted() throws {
        let template = try Fixtures.template("name: tiny\nsteps:\n  - { name: only, handler: H }\n")
        #expect(template.key.namespace == "default")
        #expect(template.key.version == SemanticVersion(0, 1, 0))
        let step = template.steps[0]
        #expect(step.retry == RetryPolicy(retryable: true, maxAttempts: 3, backoff: BackoffPolicy(baseSeconds: 1, maxSeconds: 60)))
        #expect(step.timeoutSeconds == 300)
    }

    @Test func environmentOverridesMergeByStepName() throws {
        let plain = try Fixtures.template(Self.orderYAML)
        let test = try Fixtures.template(Self.orderYAML, environment: "test")
        #expect(plain.step(named: "validate_order")?.timeoutSeconds == 30)
        #expect(test.step(named: "validate_order")?.timeoutSeconds == 5)
        #expect(test.step(named: "validate_order")?.retry.maxAttempts == 2)
        #expect(test.step(named: "reserve_inventory")?.retry.backoff.baseSeconds == 0.1)
        #expect(test.step(named: "reserve_inventory")?.retry.maxAttempts == 4)
        let other = try Fixtures.template(Self.orderYAML, environment: "production")
        #expect(other == plain)
    }

    @Test func contentHashIsStableAndSensitive() throws {
        let a = try Fixtures.template(Self.orderYAML)
        let b = try Fixtures.template(Self.orderYAML)
        let c = try Fixtures.template(Self.orderYAML.replacingOccurrences(of: "timeout_seconds: 30", with: "timeout_seconds: 31"))
        #expect(a.contentHash == b.contentHash)
        #expect(a.contentHash != c.contentHash)
        #expect(a.contentHash.count == 64)
    }

    @Test func duplicateStepNamesAreNamed() {
        let problems = Fixtures.problems("name: t\nsteps:\n  - { name: a, handler: H }\n  - { name: a, handler: H }\n")
        #expect(problems.map(\.description) == ["bad.yaml: step 'a': duplicate step name"])
    }

    @Test func unknownDependencyNamesStepAndDependency() {
        let problems = Fixtures.problems("name: t\nsteps:\n  - { name: a, handler: H, depends_on: [ghost] }\n")
        #expect(problems.map(\.description) == ["bad.yaml: step 'a': depends on unknown step 'ghost'"])
    }

    @Test func cyclesAreReportedWithTheirPath() {
        let yaml = """
            name: t
            steps:
              - { name: a, handler: H }
              - { name: b, handler: H, depends_on: [a, d] }
              - { name: c, handler: H, depends_on: [b] }
              - { name: d, handler: H, depends_on: [c] }
            """
        let problems = Fixtures.problems(yaml)
        #expect(problems.map(\.description) == ["bad.yaml: dependency cycle: b -> c -> d -> b"])
        let selfLoop = Fixtures.problems("name: t\nsteps:\n  - { name: a, handler: H, depends_on: [a] }\n")
        #expect(selfLoop.map(\.message) == ["dependency cycle: a -> a"])
    }

    @Test func missingHandlerAndUnknownKeysAreAllReported() {
        let yaml = """
            name: t
            versoin: 1.0.0
            steps:
              - { name: a, handlr: H }
              - { name: b, handler: H, retry: { max_attempt: 2 } }
            """
        let messages = Fixtures.problems(yaml).map(\.description)
        #expect(messages.count == 4)
        #expect(messages.contains { $0.hasPrefix("bad.yaml: unknown key 'versoin' in template") })
        #expect(messages.contains { $0.hasPrefix("bad.yaml: step 'a': unknown key 'handlr' in step") })
        #expect(messages.contains("bad.yaml: step 'a': missing 'handler'"))
        #expect(messages.contains { $0.hasPrefix("bad.yaml: step 'b': unknown key 'max_attempt' in retry") })
    }

    @Test(arguments: ["1.0", "v1.0.0", "1.0.0.0", "01.0.0", "1.x.0", "1.0.0-"])
    func badVersionsAreRejected(version: String) {
        let messages = Fixtures.problems("name: t\nversion: \"\(version)\"\nsteps:\n  - { name: a, handler: H }\n").map(\.message)
        #expect(messages.count == 1)
        #expect(messages.first?.contains("is not a semantic version") == true)
    }

    @Test func wrongValueTypesAreReported() {
        let yaml = """
            name: t
            identity_strategy: sometimes
            context_schema: { type: objekt }
            steps:
              - { name: a, handler: H, timeout_seconds: -1, retry: { max_attempts: many, retryable: maybe } }
            """
        let messages = Fixtures.problems(yaml).map(\.message)
        #expect(messages.count == 5)
        #expect(messages.contains { $0.hasPrefix("identity_strategy must be one of") })
        #expect(messages.contains { $0.hasPrefix("context_schema: invalid schema at $") })
        #expect(messages.contains("'timeout_seconds' must be a positive number of seconds up to 31536000 (365 days), got -1"))
    }

    @Test func malformedYAMLIsAClearProblemNotACrash() {
        let problems = Fixtures.problems("name: [unclosed\nsteps: {")
        #expect(problems.count == 1)
        #expect(problems[0].message.hasPrefix("malformed YAML"))
        #expect(Fixtures.problems("- just\n- a list\n").map(\.message) == ["a template must be a YAML mapping, got array"])
        #expect(Fixtures.problems("").map(\.message) == ["a template must be a YAML mapping, got null"])
        #expect(Fixtures.problems("name: t\nsteps: []\n").map(\.message) == ["'steps' must be a non-empty list"])
    }

    @Test func overridesForUnknownStepsAreErrors() {
        let yaml = "name: t\nsteps:\n  - { name: a, handler: H }\nenvironments:\n  test: { steps: [ { name: zz, timeout_seconds: 1 } ] }\n"
        do {
            _ = try TemplateLoader(environment: "test").load(yaml: yaml, file: "env.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.map(\.description) == ["env.yaml: step 'zz': environments.test overrides unknown step"])
        }
    }

    @Test func catalogFindsExactAndLatestVersions() throws {
        let v1 = try Fixtures.template("name: t\nversion: 1.0.0\nsteps:\n  - { name: a, handler: H }\n")
        let v2 = try Fixtures.template("name: t\nversion: 1.10.0\nsteps:\n  - { name: a, handler: H }\n")
        let v19 = try Fixtures.template("name: t\nversion: 1.9.0\nsteps:\n  - { name: a, handler: H }\n")
        let catalog = TemplateCatalog([v1, v2, v19])
        #expect(catalog.lookup(namespace: "default", name: "t", version: nil)?.version == SemanticVersion(1, 10, 0))
        #expect(catalog.lookup(namespace: "default", name: "t", version: SemanticVersion(1, 0, 0)) == v1)
        #expect(catalog.lookup(namespace: "default", name: "t", version: SemanticVersion(2, 0, 0)) == nil)
        #expect(catalog.lookup(namespace: "other", name: "t", version: nil) == nil)
    }

    @Test func semanticVersionPrecedence() throws {
        let versions = ["1.0.0", "1.0.0-rc.1", "0.9.9", "1.10.0", "1.2.0"].compactMap(SemanticVersion.init)
        #expect(versions.sorted().map(\.description) == ["0.9.9", "1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0"])
        #expect(SemanticVersion("1.2.3+build.5") == SemanticVersion(1, 2, 3))
    }
}
