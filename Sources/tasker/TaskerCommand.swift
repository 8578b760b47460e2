import ArgumentParser

/// The `tasker` command line: services, migrations, templates and task operations.
@main
struct TaskerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasker",
        abstract: "Tasker for Swift: a distributed workflow orchestration engine.",
        subcommands: [
            MigrateCommand.self,
            TemplatesCommand.self,
            CoordinatorCommand.self,
            WorkerCommand.self,
            FinalizerCommand.self,
            ReenqueuerCommand.self,
            RunCommand.self,
            SubmitCommand.self,
            StatusCommand.self,
            TasksCommand.self,
            TaskCommand.self,
            BenchCommand.self,
            DLQCommand.self,
            APICommand.self,
        ]
    )
}
