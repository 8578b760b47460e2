import ArgumentParser
import Foundation
import Logging
import TaskerCore
import TaskerPostgres
import TaskerRuntime
import TaskerWorkerApp

/// `tasker templates ...`: validate and register task templates.
struct TemplatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates",
        abstract: "Validate and register task templates.",
        subcommands: [Validate.self, Register.self]
    )

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check template files; print each DAG or every error. Exits non-zero on any error."
        )

        @Argument(help: "Template files or directories of *.yaml files.")
        var paths: [String]

        @Option(help: "Apply this environment's overrides (env TASKER_ENV).")
        var environment: String?

        func run() async throws {
            let loader = TemplateLoader(environment: environment ?? ProcessInfo.processInfo.environment["TASKER_ENV"])
            var failures = 0
            for (file, result) in try TemplateFiles.load(paths, with: loader) {
                switch result {
                case .success(let template):
                    print(TemplateSummary(template).text)
                case .failure(let error):
                    failures += 1
                    print("✗ \(file)")
                    for problem in error.problems { print("  - \(problem.step.map { "step '\($0)': " } ?? "")\(problem.message)") }
                }
            }
            if failures > 0 {
                print("\(failures) template file(s) with errors")
                throw ExitCode(1)
            }
        }
    }

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate templates and register them in the database (same content again is a no-op)."
        )

        @OptionGroup var logging: LoggingOptions
        @OptionGroup var database: DatabaseOptions

        @Argument(help: "Template files or directories of *.yaml files.")
        var paths: [String]

        @Option(help: "Apply this environment's overrides (env TASKER_ENV).")
        var environment: String?

        func run() async throws {
            let logger = logging.makeLogger(label: "tasker.templates", default: .warning)
            let loader = TemplateLoader(environment: environment ?? ProcessInfo.processInfo.environment["TASKER_ENV"])
            let results = try TemplateFiles.load(paths, with: loader)
            var templates: [TaskTemplate] = []
            for (file, result) in results {
                switch result {
                case .success(let template): templates.append(template)
                case .failure(let error):
                    print("✗ \(file)\n\(error)")
                    throw ExitCode(1)
                }
            }
            let registered = templates
            try await database.withDatabase(logger: logger) { database in
                let store = PostgresStore(database: database, logger: logger)
                for template in registered {
                    let registration = try await store.registerTemplate(template)
                    print("\(registration.created ? "registered" : "unchanged ") \(template.key)")
                }
            }
        }
    }
}

/// A human-readable summary of a template's DAG.
struct TemplateSummary {
    let text: String

    init(_ template: TaskTemplate) {
        let graph = template.graph
        var depth = Array(repeating: 1, count: graph.count)
        for node in graph.topologicalOrder {
            for parent in graph.parents[node] { depth[node] = max(depth[node], depth[parent] + 1) }
        }
        var lines = [
            "✓ \(template.key): \(graph.count) steps, depth \(depth.max() ?? 0), roots: "
                + graph.roots.map { graph.names[$0] }.joined(separator: ", ")
                + "; leaves: " + graph.leaves.map { graph.names[$0] }.joined(separator: ", ")
        ]
        for node in graph.topologicalOrder {
            let step = template.steps[node]
            let parents = graph.parents[node].map { graph.names[$0] }
            let after = parents.isEmpty ? "(root)" : "<- " + parents.joined(separator: ", ")
            lines.append("    \(step.name) [\(step.handler), attempts \(step.retry.maxAttempts), timeout \(Int(step.timeoutSeconds))s] \(after)")
        }
        text = lines.joined(separator: "\n")
    }
}
