/// One problem in a template file: where it is and what is wrong.
public struct TemplateProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file (or label) the template came from.
    public var file: String
    /// The step the problem is in, when it is in one.
    public var step: String?
    public var message: String
    /// The input limit the template is over, when that is the problem.
    public var limit: InputLimitExceeded?

    public init(file: String, step: String? = nil, message: String, limit: InputLimitExceeded? = nil) {
        self.file = file
        self.step = step
        self.message = message
        self.limit = limit
    }

    /// The problem of a template over an input limit; the message names the limit and the actual amount.
    public init(file: String, step: String? = nil, limit: InputLimitExceeded) {
        self.init(file: file, step: step, message: limit.description, limit: limit)
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
