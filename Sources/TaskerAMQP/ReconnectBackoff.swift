/// The delays between the attempts of one reconnection, following an
/// ``AMQPConfiguration/Reconnect`` policy.
///
/// Attempt *n* (counting from 0) waits `initialDelay * multiplier^n`, capped at `maxDelay`,
/// minus a random part of up to `jitter` of it (see ``AMQPConfiguration/Reconnect/delay(attempt:random:)``).
/// The randomness is injected, so the sequence is reproducible in tests. Start a new value for
/// each reconnection; a successful attempt ends it.
///
/// This is a pure value: no I/O, no clock; the connection thread does the waiting.
package struct ReconnectBackoff {
    /// The policy the delays follow.
    package let policy: AMQPConfiguration.Reconnect
    /// How many delays were handed out so far, that is the number of the attempt that follows
    /// the last one (1-based).
    package private(set) var attempts = 0

    package init(policy: AMQPConfiguration.Reconnect) {
        self.policy = policy
    }

    /// The delay before the next attempt, with `random` (uniform in 0...1) choosing the jitter.
    package mutating func nextDelay(random: Double) -> Duration {
        defer { attempts += 1 }
        return policy.delay(attempt: attempts, random: random)
    }

    /// The delay before the next attempt, with the jitter drawn from `generator`.
    package mutating func nextDelay(using generator: inout some RandomNumberGenerator) -> Duration {
        nextDelay(random: Double.random(in: 0...1, using: &generator))
    }

    /// The delay before the next attempt, with the jitter drawn from the system generator.
    package mutating func nextDelay() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return nextDelay(using: &generator)
    }
}
