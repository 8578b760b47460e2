/// What a command reports when it cannot do what was asked: a setting from the environment or
/// a flag that it cannot use, or a wait that ran out.
///
/// Thrown from a command's `run()`, it ends the process with exit status 1 and the message
/// alone (ArgumentParser's `ValidationError` would exit 64 and add the usage text, which is
/// about the command line, not about a service's settings). `--check-config` relies on it.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
