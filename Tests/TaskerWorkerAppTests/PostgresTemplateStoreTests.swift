import ArgumentParser
import Foundation
import TaskerCore
import TaskerPostgres
import TaskerTestSupport
import TaskerWorker
import TaskerWorkerApp
import TaskerWorkerPostgres
import Testing

/// Against the real test database (`DATABASE_URL` / `POSTGRES_*`), migrated first.
@Suite("PostgresTemplateStore", .serialized)
struct PostgresTemplateStoreTests {
    init() async throws {
        let database = Database(configuration: try DatabaseConfiguration.fromEnvironment(), logger: testLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.run() }
            defer { group.cancelAll() }
            try await database.waitUntilReachable(timeout: .seconds(30))
            let migrations = try Migration.load(from: packageRoot.appendingPathComponent("migrations"))
            try await PostgresMigrator(client: database.currentClient, logger: testLogger).migrate(migrations)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func registersAtStartAndReadsTheRegisteredTemplatesBack() async throws {
        let namespace = uniqueNamespace()
        let directory = try TemplateDirectory(["pair.yaml": twoStepTemplate(namespace: namespace)])
        let app = WorkerApp(handlers: registry(["validate", "ship"]), templates: [directory.url], templateStore: PostgresTemplateStore())
        let commandLine = try WorkerCommandLine.parse(["--register-templates", "--check-registered-templates"])
        let check = try await app.startupCheck(commandLine.worker, logger: testLogger)
        #expect(check.registered.contains { $0.key == TemplateKey(namespace: namespace, name: "pair", version: SemanticVersion(1, 0, 0)) })

        let registered = try await PostgresTemplateStore().register(check.templates, logger: testLogger)
        #expect(registered.map(\.created) == [false], "registering the same content again is a no-op")
    }

    @Test(.timeLimit(.minutes(1)))
    func aRegisteredTemplateThisWorkerCannotRunStopsItsStart() async throws {
        // Someone else registered version 2 with a handler this worker lacks; the worker's own
        // templates are fine, but tasks of the registered version would fail here.
        let namespace = uniqueNamespace()
        let foreign = try TemplateLoader().load(yaml: twoStepTemplate(namespace: namespace, version: "2.0.0", second: "teleport"), file: "foreign")
        _ = try await PostgresTemplateStore().register([foreign], logger: testLogger)
        let directory = try TemplateDirectory(["pair.yaml": twoStepTemplate(namespace: namespace)])
        let app = WorkerApp(handlers: registry(["validate", "ship"]), templates: [directory.url], templateStore: PostgresTemplateStore())

        let own = try await app.startupCheck(try WorkerCommandLine.parse([]).worker, logger: testLogger)
        #expect(own.registered.isEmpty, "without the flag, only the worker's own templates are checked")

        let error = await #expect(throws: WorkerStartupError.self) {
            try await app.startupCheck(try WorkerCommandLine.parse(["--check-registered-templates"]).worker, logger: testLogger)
        }
        #expect(error?.code == .missingHandlers)
        #expect(error?.description.contains("\(namespace)/pair@2.0.0: step 'two' needs handler 'teleport'") == true, "\(error?.description ?? "")")
    }
}
