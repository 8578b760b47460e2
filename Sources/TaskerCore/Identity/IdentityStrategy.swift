internal import Foundation

/// How a template recognises duplicate task requests.
public enum IdentityStrategy: String, Sendable, Hashable, Codable, CaseIterable {
    /// SHA-256 of namespace/name/version and the canonical context: the same request twice is one task.
    case strict
    /// The caller's `idempotency_key` identifies the task; a request without one is rejected.
    case callerProvided = "caller_provided"
    /// Every request creates a new task.
    case alwaysUnique = "always_unique"
}

/// Computes the identity hash that deduplicates task requests.
public enum TaskIdentity {
    /// Why no identity could be computed.
    public struct MissingKey: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String { "template requires an idempotency_key (identity strategy caller_provided)" }
    }

    /// The identity hash, or `nil` when the strategy never deduplicates.
    /// - Throws: ``MissingKey`` for `caller_provided` without a key.
    public static func hash(
        strategy: IdentityStrategy,
        template: TemplateKey,
        context: JSONValue,
        idempotencyKey: String?
    ) throws(MissingKey) -> String? {
        let prefix = "\(template.namespace)/\(template.name)/\(template.version)\n"
        switch strategy {
        case .strict:
            var data = Data(prefix.utf8)
            data.append(context.canonicalData())
            return Digest.sha256Hex(data)
        case .callerProvided:
            guard let key = idempotencyKey, !key.isEmpty else { throw MissingKey() }
            return Digest.sha256Hex(Data((prefix + "key:" + key).utf8))
        case .alwaysUnique:
            return nil
        }
    }
}
