import Foundation

/// Reads a numeric setting from the environment: absent is `nil`, anything that is not a
/// number within the bounds asked for is a ``CommandFailure`` naming the variable.
enum EnvironmentSetting {
    static func integer(_ name: String, in environment: [String: String], atLeast minimum: Int) throws -> Int? {
        guard let text = environment[name] else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= minimum else {
            throw CommandFailure("\(name) must be a whole number of at least \(minimum), not '\(text)'")
        }
        return value
    }

    static func seconds(_ name: String, in environment: [String: String], positive: Bool) throws -> Double? {
        guard let text = environment[name] else { return nil }
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite, positive ? value > 0 : value >= 0 else {
            throw CommandFailure("\(name) must be a number of seconds\(positive ? " above 0" : ", 0 or more"), not '\(text)'")
        }
        return value
    }
}
