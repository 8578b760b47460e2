public import ArgumentParser
public import TaskerRuntime

/// Every option of a worker process: logging, the broker and the worker's own.
///
/// `tasker worker` and every application built on ``WorkerApp`` parse exactly this, so they
/// accept the same flags and environment variables (docs/configuration.md).
public struct WorkerCommandLine: ParsableArguments, Sendable {
    @OptionGroup public var logging: LoggingOptions
    @OptionGroup public var service: ServiceOptions
    @OptionGroup public var worker: WorkerOptions
    // Seam: process-wide options that every service shares (a health/metrics port, say) join
    // here as one more @OptionGroup, and WorkerApp.run adds their service to the group.

    public init() {}
}

/// The command a ``WorkerApp`` process parses: ``WorkerCommandLine`` under the name the
/// executable was started with, so `--help` and errors say `my-worker`, not the type's name.
struct WorkerProcessCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? Substring($0)) })
    }

    @OptionGroup var options: WorkerCommandLine
}
