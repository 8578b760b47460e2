/// Why a worker refused to start.
public struct WorkerStartupError: Error, Sendable, CustomStringConvertible {
    /// The kind of problem.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case templates, missingHandlers, templateStore, configuration
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A template path is missing or a template is invalid.
        public static let templates = Code(.templates)
        /// A template step in a served namespace names a handler this worker does not have.
        public static let missingHandlers = Code(.missingHandlers)
        /// Registering or reading registered templates failed, or the worker has no template store.
        public static let templateStore = Code(.templateStore)
        /// An option or environment variable has a value the worker cannot use.
        public static let configuration = Code(.configuration)

        public var description: String {
            switch base {
            case .templates: "templates"
            case .missingHandlers: "missingHandlers"
            case .templateStore: "templateStore"
            case .configuration: "configuration"
            }
        }
    }

    /// The kind of problem.
    public var code: Code
    /// What is wrong and how to fix it (may span several lines).
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "worker refuses to start: \(message)" }
}
