/// The headers of dead-lettering: the two a Tasker service adds when it refuses a message
/// (``WirePublisher/deadLetter(_:reason:sourceQueue:)``), and those the broker adds when it
/// dead-letters one itself (delivery limit, rejection).
package enum DeadLetterHeaders {
    /// Why a Tasker service dead-lettered the message (at most 1,000 characters).
    package static let reason = "x-tasker-error"
    /// The queue the message came from.
    package static let sourceQueue = "x-tasker-source-queue"
    /// Every header dead-lettering adds; a replayed message is published without them.
    static let all = [
        reason, sourceQueue, "x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
        "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason",
    ]
}
