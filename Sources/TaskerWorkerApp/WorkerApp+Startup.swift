import Foundation
public import Logging
import TaskerCore
import TaskerWorker

extension WorkerApp {
    /// What the start-up check found.
    public struct StartupCheck: Sendable {
        /// The namespaces the worker serves.
        public var namespaces: [String]
        /// The application's templates (validated).
        public var templates: [TaskTemplate]
        /// The registered templates that were checked too (latest version of each).
        public var registered: [TaskTemplate]
    }

    /// Loads and validates the templates, registers them if asked, and checks that every step
    /// in a served namespace has a handler here.
    ///
    /// - Throws: ``WorkerStartupError`` naming every problem.
    public func startupCheck(_ options: WorkerOptions, logger: Logger) async throws -> StartupCheck {
        let paths = options.resolvedTemplatePaths(fallback: templates.map(\.path))
        let loader = TemplateLoader(environment: options.resolvedTemplateEnvironment)
        let own = try TemplateFiles.loadValid(paths, with: loader)
        let fallback = defaultNamespaces ?? Self.namespaces(of: own)
        let namespaces = options.resolvedNamespaces(fallback: fallback.isEmpty ? ["default"] : fallback)

        if options.resolvedRegisterTemplates {
            let store = try requireTemplateStore(for: "--register-templates")
            do {
                for (key, created) in try await store.register(own, logger: logger) {
                    logger.info("template \(created ? "registered" : "unchanged")", metadata: [LogKeys.template: "\(key)"])
                }
            } catch let error as WorkerStartupError {
                throw error
            } catch {
                throw WorkerStartupError(code: .templateStore, message: "registering the templates failed: \(String(reflecting: error))")
            }
        }

        var registered: [TaskTemplate] = []
        if options.resolvedCheckRegisteredTemplates {
            let store = try requireTemplateStore(for: "--check-registered-templates")
            do {
                registered = Self.latestVersions(try await store.registeredTemplates(logger: logger))
            } catch let error as WorkerStartupError {
                throw error
            } catch {
                throw WorkerStartupError(code: .templateStore, message: "reading the registered templates failed: \(String(reflecting: error))")
            }
        }

        let missing = handlers.missingHandlers(in: own + registered, namespaces: namespaces)
        let checked = (own + registered).filter { namespaces.contains($0.namespace) }
        if !missing.isEmpty {
            if options.resolvedSkipHandlerCheck {
                for gap in missing {
                    logger.warning("step without a handler; its tasks will fail (handler check skipped)", metadata: ["tasker.missing": "\(gap)"])
                }
            } else {
                throw WorkerStartupError(code: .missingHandlers, message: Self.explain(missing, namespaces: namespaces, handlers: handlers))
            }
        }
        logger.info(
            "templates checked",
            metadata: [
                "tasker.worker.namespaces": "\(namespaces.joined(separator: ","))",
                "tasker.templates.checked": "\(Set(checked.map(\.key)).map(\.description).sorted().joined(separator: ", "))",
                "tasker.handlers": "\(handlers.names.joined(separator: ","))",
            ]
        )
        return StartupCheck(namespaces: namespaces, templates: own, registered: registered)
    }

    private func requireTemplateStore(for flag: String) throws -> any TemplateStore {
        guard let templateStore else {
            throw WorkerStartupError(
                code: .templateStore,
                message: "\(flag) needs a template store, and this worker has none (pass one to WorkerApp(templateStore:), e.g. TaskerWorkerPostgres.PostgresTemplateStore())"
            )
        }
        return templateStore
    }

    /// The namespaces of `templates`, in first-seen order.
    static func namespaces(of templates: [TaskTemplate]) -> [String] {
        var seen = Set<String>()
        return templates.map(\.namespace).filter { seen.insert($0).inserted }
    }

    /// The highest version of each (namespace, name): what a task request without a version gets.
    static func latestVersions(_ templates: [TaskTemplate]) -> [TaskTemplate] {
        var latest: [String: TaskTemplate] = [:]
        for template in templates {
            let id = "\(template.namespace)/\(template.name)"
            if let current = latest[id], current.version >= template.version { continue }
            latest[id] = template
        }
        return latest.values.sorted { $0.key.description < $1.key.description }
    }

    static func explain(_ missing: [MissingHandler], namespaces: [String], handlers: HandlerRegistry) -> String {
        var lines = [
            "\(missing.count) template step(s) in the namespaces it serves (\(namespaces.joined(separator: ", "))) name a handler it does not have:"
        ]
        lines += missing.map { "  - \($0)" }
        lines.append("  handlers registered here: \(handlers.names.isEmpty ? "none" : handlers.names.joined(separator: ", "))")
        lines.append(
            "Register the missing handlers, serve other namespaces (--namespaces), or start anyway with --skip-handler-check (TASKER_SKIP_HANDLER_CHECK=1)."
        )
        return lines.joined(separator: "\n")
    }
}
