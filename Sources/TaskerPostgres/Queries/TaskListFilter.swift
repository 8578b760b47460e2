public import Foundation
public import TaskerCore

/// Which tasks a listing returns; every field left `nil` matches all.
public struct TaskListFilter: Sendable, Hashable {
    /// Any of these states.
    public var states: [TaskState]?
    public var namespace: String?
    public var name: String?
    /// `created_at >= createdAfter`.
    public var createdAfter: Date?
    /// `created_at < createdBefore`.
    public var createdBefore: Date?
    public var updatedAfter: Date?
    public var updatedBefore: Date?
    /// Any of these identity hashes (the deduplication key; see ``TaskIdentity``).
    public var identityHashes: [String]?

    public init(
        states: [TaskState]? = nil, namespace: String? = nil, name: String? = nil, createdAfter: Date? = nil,
        createdBefore: Date? = nil, updatedAfter: Date? = nil, updatedBefore: Date? = nil, identityHashes: [String]? = nil
    ) {
        self.states = states
        self.namespace = namespace
        self.name = name
        self.createdAfter = createdAfter
        self.createdBefore = createdBefore
        self.updatedAfter = updatedAfter
        self.updatedBefore = updatedBefore
        self.identityHashes = identityHashes
    }
}
