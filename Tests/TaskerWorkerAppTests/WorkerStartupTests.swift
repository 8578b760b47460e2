import ArgumentParser
import Foundation
import TaskerCore
import TaskerRuntime
import TaskerTestSupport
import TaskerWorker
import TaskerWorkerApp
import Testing

@Suite("Worker start-up checks")
struct WorkerStartupTests {
    func options(_ arguments: [String]) throws -> WorkerOptions {
        try WorkerCommandLine.parse(arguments).worker
    }

    @Test func missingHandlersAreFoundOnlyInServedNamespaces() throws {
        let served = uniqueNamespace()
        let other = uniqueNamespace()
        let templates = [
            try TemplateLoader().load(yaml: twoStepTemplate(namespace: served), file: "a"),
            try TemplateLoader().load(yaml: twoStepTemplate(namespace: other, second: "fly"), file: "b"),
        ]
        let missing = registry(["validate"]).missingHandlers(in: templates, namespaces: [served])
        #expect(missing == [MissingHandler(template: templates[0].key, step: "two", handler: "ship")])
        #expect(registry(["validate", "ship"]).missingHandlers(in: templates, namespaces: [served]).isEmpty)
        #expect(registry(["validate", "ship"]).missingHandlers(in: templates, namespaces: [served, other]).map(\.handler) == ["fly"])
    }

    @Test func refusesToStartNamingEveryMissingHandler() async throws {
        let namespace = uniqueNamespace()
        let directory = try TemplateDirectory(["pair.yaml": twoStepTemplate(namespace: namespace)])
        let app = WorkerApp(handlers: registry(["validate"]), templates: [directory.url])
        let error = await #expect(throws: WorkerStartupError.self) {
            try await app.startupCheck(try options([]), logger: testLogger)
        }
        #expect(error?.code == .missingHandlers)
        let text = error?.description ?? ""
        #expect(text.contains("\(namespace)/pair@1.0.0: step 'two' needs handler 'ship'"), "\(text)")
        #expect(text.contains("handlers registered here: validate"))
        #expect(text.contains("--skip-handler-check"))
    }

    @Test func startsWhenEveryHandlerIsThereAndServesTheTemplatesNamespaces() async throws {
        let namespace = uniqueNamespace()
        let directory = try TemplateDirectory(["pair.yaml": twoStepTemplate(namespace: namespace)])
        let app = WorkerApp(handlers: registry(["validate", "ship"]), templates: [directory.url])
        let check = try await app.startupCheck(try options([]), logger: testLogger)
        #expect(check.namespaces == [namespace])
        #expect(check.templates.map(\.name) == ["pair"])
    }

    @Test func theOptOutStartsAnyway() async throws {
        let directory = try TemplateDirectory(["pair.yaml": twoStepTemplate(namespace: uniqueNamespace())])
        let app = WorkerApp(handlers: registry([]), templates: [directory.url])
        let check = try await app.startupCheck(try options(["--skip-handler-check"]), logger: testLogger)
        #expect(check.templates.count == 1)
    }

    @Test func aNamespaceNotServedIsNotChecked() async throws {
        let directory = try TemplateDirectory(["pair.yaml": twoStepTemplate(namespace: uniqueNamespace())])
        let app = WorkerApp(handlers: registry([]), templates: [directory.url])
        let check = try await app.startupCheck(try options(["--namespaces", "elsewhere,more"]), logger: testLogger)
        #expect(check.namespaces == ["elsewhere", "more"])
    }

    @Test func invalidTemplatesStopTheStartWithEveryProblem() async throws {
        let directory = try TemplateDirectory([
            "broken.yaml": "name: broken\nsteps:\n  - { name: a, handler: x, depends_on: [nowhere] }\n  - { name: a, handler: y }\n"
        ])
        let app = WorkerApp(handlers: registry(["x", "y"]), templates: [directory.url])
        let error = await #expect(throws: WorkerStartupError.self) {
            try await app.startupCheck(try options([]), logger: testLogger)
        }
        #expect(error?.code == .templates)
        #expect(error?.description.contains("duplicate step name") == true, "\(error?.description ?? "")")
    }

    @Test func templatesOptionReplacesTheApplicationsOwn() async throws {
        let namespace = uniqueNamespace()
        let own = try TemplateDirectory(["pair.yaml": twoStepTemplate(namespace: namespace)])
        let other = try TemplateDirectory(["solo.yaml": "name: solo\nnamespace: \(namespace)\nsteps:\n  - { name: a, handler: validate }\n"])
        let app = WorkerApp(handlers: registry(["validate"]), templates: [own.url])
        let check = try await app.startupCheck(try options(["--templates", other.url.path]), logger: testLogger)
        #expect(check.templates.map(\.name) == ["solo"])
        await #expect(throws: WorkerStartupError.self) {
            try await app.startupCheck(try options(["--templates", "/nonexistent/templates"]), logger: testLogger)
        }
    }

    @Test func storeFlagsWithoutAStoreAreRefused() async throws {
        let app = WorkerApp(handlers: registry([]))
        let error = await #expect(throws: WorkerStartupError.self) {
            try await app.startupCheck(try options(["--check-registered-templates"]), logger: testLogger)
        }
        #expect(error?.code == .templateStore)
    }

    @Test func theCommandLineIsTheSameAsTaskerWorkers() throws {
        let parsed = try WorkerCommandLine.parse([
            "--amqp-url", "amqp://u:p@h:1/v", "--prefix", "p", "--concurrency", "3", "--namespaces", "a", "b,c",
            "--log-level", "debug", "--worker-id", "w-1",
        ])
        #expect(parsed.service.prefix == "p")
        #expect(parsed.service.resolvedConcurrency(default: 16) == 3)
        #expect(parsed.service.topology.prefix == "p")
        #expect(parsed.worker.resolvedNamespaces(fallback: ["x"]) == ["a", "b", "c"])
        #expect(parsed.worker.resolvedWorkerID == "w-1")
        #expect(parsed.logging.level == .debug)
    }

    @Test func makeServiceAppliesTheOptions() async throws {
        let namespace = uniqueNamespace()
        let directory = try TemplateDirectory(["pair.yaml": twoStepTemplate(namespace: namespace)])
        let app = WorkerApp(handlers: registry(["validate", "ship"]), templates: [directory.url])
        let commandLine = try WorkerCommandLine.parse(["--concurrency", "0"])
        await #expect(throws: WorkerStartupError.self) {
            _ = try await app.makeService(commandLine.worker, service: commandLine.service, logger: testLogger)
        }
        // A prefetch below the concurrency would leave slots that can never fill.
        let belowConcurrency = try WorkerCommandLine.parse(["--concurrency", "4", "--prefetch", "3"])
        let refusal = await #expect(throws: WorkerStartupError.self) {
            _ = try await app.makeService(belowConcurrency.worker, service: belowConcurrency.service, logger: testLogger)
        }
        #expect(refusal?.code == .configuration)
        let prefetching = try WorkerCommandLine.parse(["--concurrency", "4", "--prefetch", "6"])
        #expect(prefetching.worker.resolvedPrefetch == 6)
        _ = try await app.makeService(prefetching.worker, service: prefetching.service, logger: testLogger)
    }

    @Test func theResultBatchSizeIsCheckedAndApplied() throws {
        let app = WorkerApp(handlers: registry(["validate"]))
        let zero = try WorkerCommandLine.parse(["--result-batch-size", "0"])
        let refusal = #expect(throws: WorkerStartupError.self) {
            _ = try app.configuration(zero.worker, service: zero.service, namespaces: ["default"])
        }
        #expect(refusal?.code == .configuration)
        let eight = try WorkerCommandLine.parse(["--result-batch-size", "8", "--concurrency", "4"])
        let configuration = try app.configuration(eight.worker, service: eight.service, namespaces: ["n"])
        #expect(configuration.resultBatchSize == 8)
        #expect(configuration.concurrency == 4)
        #expect(configuration.namespaces == ["n"])
        let defaults = try WorkerCommandLine.parse([])
        #expect(try app.configuration(defaults.worker, service: defaults.service, namespaces: ["n"]).resultBatchSize == 32)
    }

    @Test func theDefaultPrefetchHoldsAFewMoreThanTheConcurrency() {
        #expect(WorkerService.defaultPrefetch(concurrency: 1) == 2)
        #expect(WorkerService.defaultPrefetch(concurrency: 16) == 20)
        #expect(WorkerService.defaultPrefetch(concurrency: 100) == 125)
    }
}
