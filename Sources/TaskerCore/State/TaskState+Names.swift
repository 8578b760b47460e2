extension TaskState {
    /// A name that is not a task state, from ``named(_:)``.
    public struct UnknownName: Error, Sendable, CustomStringConvertible {
        /// The name as given.
        public let name: String
        public var description: String { "unknown state '\(name)' (one of \(TaskState.allNames))" }
    }

    /// Every state's name, comma-separated, for messages.
    public static var allNames: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The states these names stand for, in order (a listing's `state` filter: the API's
    /// `?state=`, `tasker tasks --state`); throws at the first name that is none.
    public static func named(_ names: some Sequence<String>) throws(UnknownName) -> [TaskState] {
        var states: [TaskState] = []
        for name in names {
            guard let state = TaskState(rawValue: name) else { throw UnknownName(name: name) }
            states.append(state)
        }
        return states
    }
}
