import Foundation
import Testing
import TaskerCore

@Suite struct TaskProgressTests {
    @Test func outcomes() {
        #expect(TaskProgress(total: 4, done: 4, failed: 0, active: 0).outcome == .complete)
        #expect(TaskProgress(total: 4, done: 2, failed: 1, active: 1).outcome == .running)
        #expect(TaskProgress(total: 4, done: 2, failed: 0, active: 2).outcome == .running)
        #expect(TaskProgress(total: 4, done: 2, failed: 1, active: 0).outcome == .failed)
        #expect(TaskProgress(total: 6, done: 3, failed: 1, active: 0).outcome == .failed)
    }
}
