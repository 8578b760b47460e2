public import Foundation

/// Where time and new ids come from: the system in production, fixed or stepped in tests.
/// Services and the machine take it injected instead of calling `Date()` / `UUID()`.
public struct WorkflowClock: Sendable {
    public var now: @Sendable () -> Date
    public var makeID: @Sendable () -> UUID

    public init(now: @escaping @Sendable () -> Date, makeID: @escaping @Sendable () -> UUID) {
        self.now = now
        self.makeID = makeID
    }

    /// The system clock and random (version 4) UUIDs.
    public static let system = WorkflowClock(now: { Date() }, makeID: { UUID.random() })
}
