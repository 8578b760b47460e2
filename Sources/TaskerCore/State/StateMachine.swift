/// An explicit transition table for a state type.
///
/// A transition to the current state is an idempotent no-op; one the table does not list
/// is refused with a ``TransitionError`` naming both states.
public struct StateMachine<State: Hashable & Sendable & RawRepresentable>: Sendable where State.RawValue == String {
    /// `"task"` or `"step"`, used in error messages.
    public let entity: String
    public let allowed: [State: Set<State>]

    public init(entity: String, allowed: [State: Set<State>]) {
        self.entity = entity
        self.allowed = allowed
    }

    /// What to do about a requested transition.
    public enum Decision: Sendable, Hashable {
        /// Record the transition.
        case apply
        /// Already in the target state: record nothing.
        case noChange
    }

    /// Checks `from -> to` against the table.
    public func decide(from: State, to: State) throws(TransitionError) -> Decision {
        if from == to { return .noChange }
        guard allowed[from]?.contains(to) == true else {
            throw TransitionError(entity: entity, from: from.rawValue, to: to.rawValue)
        }
        return .apply
    }

    /// Whether `from -> to` is a listed transition.
    public func canTransition(from: State, to: State) -> Bool {
        allowed[from]?.contains(to) == true
    }

    /// Every state from which `to` can be reached in one listed transition.
    public func sources(of to: State) -> [State] {
        allowed.filter { $0.value.contains(to) }.map(\.key)
    }
}

/// A refused state transition.
public struct TransitionError: Error, Sendable, Hashable, CustomStringConvertible {
    public let entity: String
    public let from: String
    public let to: String

    public init(entity: String, from: String, to: String) {
        self.entity = entity
        self.from = from
        self.to = to
    }

    public var description: String { "\(entity) cannot transition from '\(from)' to '\(to)'" }
}
