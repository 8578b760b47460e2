internal import Foundation
internal import TaskerCore
internal import TaskerPostgres

/// The tasks list's filters as the GET form sends them (`/ui/tasks?state=…&namespace=…`):
/// state, namespace, template name, created after/before (UTC) and an idempotency key.
/// Empty fields are absent. The text is kept as typed, for the form and the next-page link.
struct TaskListQuery: Sendable, Hashable {
    var state: TaskState?
    var namespace: String?
    var name: String?
    var createdAfter: String?
    var createdBefore: String?
    var idempotencyKey: String?

    /// What is wrong with a field (shown to the user, nothing is listed).
    struct Problem: Error {
        let message: String
    }

    init(state: TaskState? = nil, namespace: String? = nil, name: String? = nil, createdAfter: String? = nil, createdBefore: String? = nil,
        idempotencyKey: String? = nil)
    {
        self.state = state
        self.namespace = namespace
        self.name = name
        self.createdAfter = createdAfter
        self.createdBefore = createdBefore
        self.idempotencyKey = idempotencyKey
    }

    /// Reads the query parameters; `value` answers a parameter's non-empty value.
    init(_ value: (String) -> String?) {
        self.init(
            state: value("state").flatMap(TaskState.init(rawValue:)), namespace: value("namespace"), name: value("name"),
            createdAfter: value("created_after"), createdBefore: value("created_before"), idempotencyKey: value("idempotency_key"))
    }

    /// The listing filter, with the idempotency key's hashes under `templates` (the registered
    /// versions of the chosen template, or of every template when none is chosen).
    func filter(templates: () async throws -> [RegisteredTemplate]) async throws -> TaskListFilter {
        var filter = TaskListFilter(states: state.map { [$0] }, namespace: namespace, name: name)
        filter.createdAfter = try createdAfter.map { try Self.time($0, field: "Created after") }
        filter.createdBefore = try createdBefore.map { try Self.time($0, field: "Created before") }
        if let idempotencyKey {
            filter.identityHashes = IdempotencyKeyLookup.hashes(idempotencyKey, templates: try await templates())
        }
        return filter
    }

    /// The parameters, for links (the next page's).
    var parameters: [String] {
        var parameters: [String] = []
        if let state { parameters.append("state=\(state.rawValue)") }
        for (key, value) in [
            ("namespace", namespace), ("name", name), ("created_after", createdAfter), ("created_before", createdBefore),
            ("idempotency_key", idempotencyKey),
        ] {
            if let value { parameters.append("\(key)=\(HTML.query(value))") }
        }
        return parameters
    }

    /// RFC 3339 (`2026-11-30T12:00:00Z`, any offset), or `2026-11-30T12:00`, `2026-11-30 12:00`,
    /// `2026-11-30T12:00:05` or `2026-11-30`, read as UTC.
    static func time(_ text: String, field: String) throws(Problem) -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let date = APITime.parse(trimmed) { return date }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd'T'HH:mm:ss.SSS", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) { return date }
        }
        throw Problem(message: "\(field): '\(text)' is not a time; write it as 2026-11-30T12:00 (UTC) or 2026-11-30T12:00:00+01:00.")
    }
}
