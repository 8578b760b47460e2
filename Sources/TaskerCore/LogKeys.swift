/// Logger metadata keys used across Tasker (dot-separated, lower case).
public enum LogKeys {
    public static let taskID = "tasker.task.id"
    public static let stepID = "tasker.step.id"
    public static let stepName = "tasker.step.name"
    public static let attempt = "tasker.step.attempt"
    public static let template = "tasker.template"
    public static let error = "tasker.error"
}
