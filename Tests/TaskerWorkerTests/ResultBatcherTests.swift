import Foundation
import Synchronization
import Testing
import TaskerCore
import TaskerTestSupport
@testable import TaskerWorker

/// ``ResultBatcher``: one message in flight; what finishes meanwhile goes out together, at most
/// `maxBatch` per message; every caller returns once its own message is confirmed, or throws
/// what that message's publish threw.
@Suite(.timeLimit(.minutes(1))) struct ResultBatcherTests {
    /// The fake broker: records each message and confirms it when the test says so.
    final class Broker: Sendable {
        private let state = Mutex<(sent: [[String]], confirmations: Int, waiting: [CheckedContinuation<Void, Never>])>(([], 0, []))

        var sent: [[String]] { state.withLock { $0.sent } }

        func send(_ entries: [StepResultBatch.Entry]) async throws {
            let names = entries.map(\.result.stepName)
            await withCheckedContinuation { continuation in
                state.withLock { state in
                    state.sent.append(names)
                    if state.confirmations > 0 {
                        state.confirmations -= 1
                        continuation.resume()
                    } else {
                        state.waiting.append(continuation)
                    }
                }
            }
            if names.contains("refused") { throw CancellationError() }
        }

        /// Confirms the oldest message waiting, or the next one sent.
        func confirm() {
            state.withLock { state in
                if state.waiting.isEmpty { state.confirmations += 1 } else { state.waiting.removeFirst().resume() }
            }
        }
    }

    /// What the callers saw, by result.
    final class Outcomes: Sendable {
        let byName = Mutex<[String: Bool]>([:])
        var value: [String: Bool] { byName.withLock { $0 } }
        func record(_ name: String, published: Bool) { byName.withLock { $0[name] = published } }
    }

    static func entry(_ name: String) -> StepResultBatch.Entry {
        StepResultBatch.Entry(StepResultMessage(
            kind: .completed, taskID: UUID(), stepID: UUID(), stepName: name, attempt: 1, workerID: "w", occurredAt: Date()))
    }

    @Test func whatFinishesDuringAConfirmGoesOutTogether() async throws {
        let broker = Broker()
        let batcher = ResultBatcher(maxBatch: 3) { try await broker.send($0) }
        let returned = Outcomes()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await batcher.publish(Self.entry("first"))
                returned.record("first", published: true)
            }
            // The first result finds nothing in flight: it goes out at once, alone.
            try await eventually("the first message") { broker.sent.count == 1 }
            for index in 1...5 {
                group.addTask {
                    try await batcher.publish(Self.entry("r\(index)"))
                    returned.record("r\(index)", published: true)
                }
            }
            try await eventually("five results waiting") { batcher.waitingCount == 5 }
            #expect(broker.sent.count == 1)
            #expect(returned.value.isEmpty, "nobody returns before the broker confirmed")

            broker.confirm()
            // The five that waited go out three, then two, one message in flight at a time.
            try await eventually("the second message") { broker.sent.count == 2 }
            try await eventually("the first caller returned") { returned.value == ["first": true] }
            #expect(broker.sent[1].count == 3)
            broker.confirm()
            try await eventually("the third message") { broker.sent.count == 3 }
            #expect(broker.sent[2].count == 2)
            broker.confirm()
            try await group.waitForAll()
        }
        #expect(broker.sent.count == 3)
        #expect(broker.sent[0] == ["first"])
        #expect(Set(broker.sent[1] + broker.sent[2]) == Set((1...5).map { "r\($0)" }))
        #expect(Set(returned.value.keys) == Set(["first"] + (1...5).map { "r\($0)" }))
        #expect(batcher.waitingCount == 0)

        // Idle again: the next result goes out at once, alone.
        broker.confirm()
        try await batcher.publish(Self.entry("later"))
        #expect(broker.sent.last == ["later"])
    }

    @Test func aFailedMessageFailsItsCallersOnlyAndTheNextOneGoesOut() async throws {
        let broker = Broker()
        let batcher = ResultBatcher(maxBatch: 10) { try await broker.send($0) }
        let outcomes = Outcomes()
        try await withThrowingTaskGroup(of: Void.self) { group in
            func publish(_ name: String) {
                group.addTask {
                    let published = (try? await batcher.publish(Self.entry(name))) != nil
                    outcomes.record(name, published: published)
                }
            }
            publish("first")
            try await eventually("the first message") { broker.sent.count == 1 }
            publish("refused")
            publish("with the refused")
            try await eventually("two waiting") { batcher.waitingCount == 2 }
            broker.confirm()
            try await eventually("the second message") { broker.sent.count == 2 }
            // While the refused message is in flight, another result waits for the next one.
            publish("after")
            try await eventually("one waiting") { batcher.waitingCount == 1 }
            broker.confirm()
            try await eventually("the third message") { broker.sent.count == 3 }
            broker.confirm()
        }
        #expect(outcomes.value == ["first": true, "refused": false, "with the refused": false, "after": true])
        #expect(broker.sent.map(\.count) == [1, 2, 1])
    }
}
