/// A task-store operation that could not be carried out.
///
/// The description never contains SQL, bind values or credentials.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable { case notFound, transitionRefused, templateConflict, templateNotFound }
        private let base: Base
        /// The task or step does not exist.
        public static let notFound = Code(base: .notFound)
        /// The state machine does not allow the requested transition.
        public static let transitionRefused = Code(base: .transitionRefused)
        /// A template version was registered again with different content.
        public static let templateConflict = Code(base: .templateConflict)
        /// The task names a template version that is not registered.
        public static let templateNotFound = Code(base: .templateNotFound)
        public var description: String { "\(base)" }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
