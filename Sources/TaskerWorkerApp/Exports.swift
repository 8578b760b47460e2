// `import TaskerWorkerApp` is all a worker executable needs: the handler API and the JSON and
// template types (and swift-log's Logger) come with it.
@_exported public import TaskerCore
@_exported public import TaskerWorker
@_exported public import Logging
