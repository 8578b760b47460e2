/// A bound on the size or shape of input that Tasker accepts from outside: a message body,
/// a task context, a template. docs/wire-protocol.md ("Limits") lists every one.
///
/// Every limit is checked before the input is parsed or walked further, so a hostile or
/// broken producer cannot make a service run out of memory, overflow its stack or spin. An
/// input over a limit is refused with an ``InputLimitExceeded`` through the usual error path
/// of its decoder (``RequestRejection``, ``WireDecodingError``, ``TemplateLoadError``).
public struct InputLimit: Sendable, Hashable, CustomStringConvertible {
    /// What a limit counts.
    public struct Unit: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        /// Bytes of UTF-8 text.
        public static let bytes = Unit(name: "bytes")
        /// Levels of nested arrays and objects (`{}` is 1 level, `{"a": []}` is 2).
        public static let levels = Unit(name: "levels")
        /// Steps of a template.
        public static let steps = Unit(name: "steps")
        public var description: String { name }
    }

    /// What is limited, as it appears in error messages ("task request body").
    public let subject: String
    /// The largest accepted amount.
    public let maximum: Int
    public let unit: Unit

    public init(subject: String, maximum: Int, unit: Unit) {
        self.subject = subject
        self.maximum = maximum
        self.unit = unit
    }

    public var description: String { "\(subject): at most \(maximum) \(unit)" }

    /// An error for `actual`, which is over the limit.
    public func exceeded(by actual: Int, in place: String? = nil) -> InputLimitExceeded {
        InputLimitExceeded(limit: self, actual: actual, place: place)
    }

    // MARK: Message bodies

    /// The body of a task request (1 MiB).
    public static let taskRequestBody = InputLimit(subject: "task request body", maximum: 1 << 20, unit: .bytes)

    /// The body of a step dispatch (16 MiB, RabbitMQ 4's default `max_message_size`). It carries the
    /// context, every parent's results and the handler configuration, so it is larger than the others.
    public static let stepDispatchBody = InputLimit(subject: "step dispatch body", maximum: 16 << 20, unit: .bytes)

    /// The body of a step result, including the handler's `results` (1 MiB).
    public static let stepResultBody = InputLimit(subject: "step result body", maximum: 1 << 20, unit: .bytes)

    /// Results an operator supplies when resolving a step by hand (``OperatorCommand``), as
    /// canonical JSON (1 MiB, as a worker's results).
    public static let manualResults = InputLimit(subject: "results", maximum: 1 << 20, unit: .bytes)

    /// Any other message Tasker decodes (a task request reply, say): 1 MiB.
    public static let otherMessageBody = InputLimit(subject: "message body", maximum: 1 << 20, unit: .bytes)

    // MARK: Values

    /// A task context as canonical JSON (``JSONValue/canonicalData()``: sorted keys, no
    /// whitespace), which is what is stored, hashed for identity and sent with every dispatch (256 KiB).
    public static let contextBytes = InputLimit(subject: "context", maximum: 256 << 10, unit: .bytes)

    /// How deeply arrays and objects may nest in one JSON value: a context, a step's results,
    /// a handler configuration, a `context_schema` (64 levels). Every parser Tasker uses recurses
    /// once per level, so this also keeps the stack bounded.
    public static let nestingDepth = InputLimit(subject: "JSON value", maximum: 64, unit: .levels)

    /// How deeply a whole message body may nest: a value at ``nestingDepth`` plus the envelope
    /// around it (`parent_results.<step>` in a dispatch is two levels down). Checked on the raw
    /// bytes before the JSON parser runs.
    public static let messageNestingDepth = InputLimit(
        subject: "message body", maximum: nestingDepth.maximum + 2, unit: .levels)

    /// How deeply a body of several step results (``StepResultBatch``) may nest: a report's
    /// `results` at ``nestingDepth`` plus the report and the batch around it
    /// (`results[i].results` is three levels down).
    public static let resultBatchNestingDepth = InputLimit(
        subject: "step result batch body", maximum: nestingDepth.maximum + 3, unit: .levels)

    /// How deeply any JSON text given to ``JSONValue/parse(_:maxDepth:)`` may nest by default
    /// (512 levels, which bounds the recursive parser's stack; the ceiling Foundation's parser,
    /// used before, had too). For documents Tasker stored itself; outside input gets the
    /// stricter limits above.
    public static let parserNestingDepth = InputLimit(subject: "JSON text", maximum: 512, unit: .levels)

    // MARK: Templates

    /// A template's YAML or JSON text (1 MiB).
    public static let templateBytes = InputLimit(subject: "template", maximum: 1 << 20, unit: .bytes)

    /// The steps of one template (20,000: wide fan-outs of 10,000 steps are benchmarked).
    public static let templateSteps = InputLimit(subject: "template", maximum: 20_000, unit: .steps)

    /// How deeply a whole template document may nest: a handler configuration or schema at
    /// ``nestingDepth`` plus the template around it (`environments.<env>.steps[i].handler_config`
    /// is five levels down). Checked on the text before the YAML parser runs.
    public static let templateNestingDepth = InputLimit(
        subject: "template", maximum: nestingDepth.maximum + 6, unit: .levels)
}

/// An input over an ``InputLimit``: names the limit and the actual amount.
public struct InputLimitExceeded: Error, Sendable, Hashable, CustomStringConvertible {
    public let limit: InputLimit
    /// The amount found (bytes, levels or steps, per ``InputLimit/unit``).
    public let actual: Int
    /// Where in the input, when the subject alone does not say (`'context'`, `handler_config`).
    public let place: String?

    public init(limit: InputLimit, actual: Int, place: String? = nil) {
        self.limit = limit
        self.actual = actual
        self.place = place
    }

    /// "task request body is 2000000 bytes; the limit is 1048576 bytes".
    public var description: String {
        let what = place ?? limit.subject
        switch limit.unit {
        case .levels:
            return "\(what) is nested \(actual) levels deep; the limit is \(limit.maximum) levels"
        case .steps:
            return "\(what) has \(actual) steps; the limit is \(limit.maximum) steps"
        default:
            return "\(what) is \(actual) \(limit.unit); the limit is \(limit.maximum) \(limit.unit)"
        }
    }
}
