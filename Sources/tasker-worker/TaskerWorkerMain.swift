// Foundation imported here (not only through the SDK) so that, compiled with `-static-stdlib`,
// this file links the static Foundation libraries and what they need (Package.swift).
import Foundation
import TaskerExamples
import TaskerWorkerApp

/// `tasker-worker`: the reference handlers (`square`, `noop`, `sleep`) in a worker of its own,
/// linked only with what a worker needs (no PostgreSQL, HTTP or NIO), the Swift runtime and
/// Foundation statically in release builds: idle, ~23 MiB resident where `tasker worker` takes
/// ~32 (docs/performance.md, "Idle worker memory").
///
/// Same flags and environment as `tasker worker` (``WorkerCommandLine``), same defaults
/// (namespaces `default,examples`); without a template store, so `--register-templates` and
/// `--check-registered-templates` are refused (`tasker worker` has them).
@main
enum TaskerWorkerMain {
    static func main() async {
        var handlers = HandlerRegistry()
        ExampleHandlers.register(in: &handlers)
        await WorkerApp(handlers: handlers, defaultNamespaces: ["default", "examples"], label: "tasker.worker").main()
    }
}
