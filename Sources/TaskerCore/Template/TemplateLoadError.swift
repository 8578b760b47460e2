/// One problem in a template file: where it is and what is wrong.
public struct TemplateProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file (or label) the template came from.
    public var file: String
    /// The step the problem is in, when it is in one.
    public var step: String?
    public var message: String

    public init(file: String, step: String? = nil, message: String) {
        self.file = file
        self.step = step
        self.message = message
    }

    public var description: String {
        if let step { return "\(file): step '\(step)': \(message)" }
        return "\(file): \(message)"
    }
}

/// A template that could not be loaded, with every problem found in it.
public struct TemplateLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var problems: [TemplateProblem]

    public init(file: String, problems: [TemplateProblem]) {
        self.file = file
        self.problems = problems
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
