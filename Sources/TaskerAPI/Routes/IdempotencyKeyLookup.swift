internal import TaskerCore
internal import TaskerPostgres

/// The identity hashes an idempotency key has: the hash covers the template's namespace, name
/// and version (``TaskIdentity``), so a key is looked up as one hash per registered version.
/// The tasks listing then finds them through the unique `identity_hash` index.
enum IdempotencyKeyLookup {
    /// The key's hash under each of `templates` (only those whose identity is the caller's key:
    /// other strategies never store one).
    static func hashes(_ key: String, templates: [RegisteredTemplate]) -> [String] {
        templates.filter { $0.template.identityStrategy == .callerProvided }.compactMap { registered in
            try? TaskIdentity.hash(strategy: .callerProvided, template: registered.template.key, context: .null, idempotencyKey: key)
        }
    }
}
