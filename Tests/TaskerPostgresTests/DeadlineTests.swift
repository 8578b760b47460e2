import Testing
import TaskerPostgres

/// The deadline every database call runs under (no server needed).
@Suite struct DeadlineTests {
    @Test func anOperationThatIgnoresCancellationStillEndsAtItsDeadline() async throws {
        let start = ContinuousClock.now
        // Awaiting a detached task does not forward cancellation: this body ignores it for 3 s.
        let error = await #expect(throws: DatabaseTimeout.self) {
            try await Deadline.run(.milliseconds(100), operation: "test") {
                await Task.detached { try? await Task.sleep(for: .seconds(3)) }.value
            }
        }
        #expect(error?.operation == "test")
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test func aFastOperationReturnsItsResultAndErrorsPassThrough() async throws {
        #expect(try await Deadline.run(.seconds(5), operation: "test") { 42 } == 42)
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await Deadline.run(.seconds(5), operation: "test") { () async throws -> Int in throw Refused() }
        }
    }

    @Test func cancellingTheCallerEndsTheCallAtOnce() async throws {
        let call = Task {
            try await Deadline.run(.seconds(30), operation: "test") {
                await Task.detached { try? await Task.sleep(for: .seconds(3)) }.value
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        let start = ContinuousClock.now
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        #expect(ContinuousClock.now - start < .seconds(1))
    }
}
