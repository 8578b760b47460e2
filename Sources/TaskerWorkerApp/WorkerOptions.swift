public import ArgumentParser
import Foundation

/// The worker's own options, shared by every worker executable (`tasker worker` and the
/// applications built on ``WorkerApp``). Flags win over environment variables, which win over
/// the application's defaults.
public struct WorkerOptions: ParsableArguments, Sendable {
    @Option(
        name: .long,
        parsing: .upToNextOption,
        help: "Namespaces to serve (env TASKER_NAMESPACES, comma-separated; default: the namespaces of the application's templates)."
    )
    public var namespaces: [String] = []

    @Option(
        name: .long,
        parsing: .upToNextOption,
        help: "Template files or directories this worker validates and checks (env TASKER_TEMPLATES, comma-separated; default: the application's own)."
    )
    public var templates: [String] = []

    @Option(name: .customLong("environment"), help: "Apply the templates' environments.<name> overrides (env TASKER_ENV).")
    public var templateEnvironment: String?

    @Flag(help: "Start even if a template step in a served namespace names a handler this worker lacks (env TASKER_SKIP_HANDLER_CHECK=1).")
    public var skipHandlerCheck = false

    @Flag(help: "Register the templates in PostgreSQL at start (DATABASE_URL; env TASKER_REGISTER_TEMPLATES=1).")
    public var registerTemplates = false

    @Flag(help: "Also check every template registered in PostgreSQL, not only this worker's own (DATABASE_URL; env TASKER_CHECK_REGISTERED_TEMPLATES=1).")
    public var checkRegisteredTemplates = false

    @Option(name: .long, help: "Reported as worker_id with every result (env TASKER_WORKER_ID, default hostname:pid).")
    public var workerID: String?

    @Option(name: .long, help: "Dispatches each consumer holds, running or waiting for a slot (env TASKER_WORKER_PREFETCH; default concurrency + concurrency/4, at least one more).")
    public var prefetch: Int?

    @Option(name: .customLong("result-batch-size"), help: "The most step results one message to the results exchange carries; 1 sends each alone (env TASKER_RESULT_BATCH_SIZE, default 32).")
    public var resultBatchSize: Int?

    public init() {}

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// `--namespaces` (comma-separated values allowed), else `TASKER_NAMESPACES`, else `fallback`.
    public func resolvedNamespaces(fallback: [String]) -> [String] {
        let values = !namespaces.isEmpty ? namespaces : environment["TASKER_NAMESPACES"].map { [$0] } ?? []
        let parsed = Self.list(values)
        return parsed.isEmpty ? fallback : parsed
    }

    /// `--templates`, else `TASKER_TEMPLATES`, else `fallback` (the application's own).
    public func resolvedTemplatePaths(fallback: [String]) -> [String] {
        let values = !templates.isEmpty ? templates : environment["TASKER_TEMPLATES"].map { [$0] } ?? []
        let parsed = Self.list(values)
        return parsed.isEmpty ? fallback : parsed
    }

    /// `--environment`, else `TASKER_ENV`.
    public var resolvedTemplateEnvironment: String? {
        templateEnvironment ?? environment["TASKER_ENV"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether the handler check is skipped (`--skip-handler-check` or `TASKER_SKIP_HANDLER_CHECK`).
    public var resolvedSkipHandlerCheck: Bool { skipHandlerCheck || Self.flag(environment["TASKER_SKIP_HANDLER_CHECK"]) }
    /// Whether templates are registered at start (`--register-templates` or `TASKER_REGISTER_TEMPLATES`).
    public var resolvedRegisterTemplates: Bool { registerTemplates || Self.flag(environment["TASKER_REGISTER_TEMPLATES"]) }
    /// Whether registered templates are checked too (`--check-registered-templates` or `TASKER_CHECK_REGISTERED_TEMPLATES`).
    public var resolvedCheckRegisteredTemplates: Bool {
        checkRegisteredTemplates || Self.flag(environment["TASKER_CHECK_REGISTERED_TEMPLATES"])
    }

    /// `--worker-id`, else `TASKER_WORKER_ID`, else nil (the default `hostname:pid`).
    public var resolvedWorkerID: String? { workerID ?? environment["TASKER_WORKER_ID"].flatMap { $0.isEmpty ? nil : $0 } }

    /// `--prefetch`, else `TASKER_WORKER_PREFETCH`, else nil (the worker's default).
    public var resolvedPrefetch: Int? { prefetch ?? environment["TASKER_WORKER_PREFETCH"].flatMap(Int.init) }

    /// `TASKER_STARTED_REPORT_DELAY_MS`, if set to a non-negative integer.
    public var startedReportDelay: Duration? {
        environment["TASKER_STARTED_REPORT_DELAY_MS"].flatMap(Int64.init).flatMap { $0 >= 0 ? .milliseconds($0) : nil }
    }

    /// `--result-batch-size`, else `TASKER_RESULT_BATCH_SIZE`, else nil (the worker's default).
    public var resolvedResultBatchSize: Int? { resultBatchSize ?? Self.resultBatchSize(in: environment) }

    /// `TASKER_RESULT_BATCH_SIZE` in `environment`, if set to an integer.
    public static func resultBatchSize(in environment: [String: String]) -> Int? {
        environment["TASKER_RESULT_BATCH_SIZE"].flatMap(Int.init)
    }

    /// Splits comma-separated values, trims blanks, drops empty items.
    static func list(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `1`, `true`, `yes`, `on` (any case) are true.
    static func flag(_ value: String?) -> Bool {
        guard let value else { return false }
        return ["1", "true", "yes", "on"].contains(value.lowercased())
    }
}
