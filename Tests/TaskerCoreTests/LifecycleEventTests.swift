import Foundation
import Testing
import TaskerCore

@Suite struct LifecycleEventTests {
    @Test func namesAreTheDocumentedConstants() {
        #expect(LifecycleEventName.all.count == 22)
        #expect(Set(LifecycleEventName.all.map(\.rawValue)).count == 22)
        #expect(LifecycleEventName.stepRetryRequested.rawValue == "step.retry_requested")
        #expect(LifecycleEventName.viableStepsDiscovered.rawValue == "workflow.viable_steps_discovered")
        #expect(LifecycleEventName.stepRetryScheduled.rawValue == "step.retry_scheduled")
    }

    @Test func stepPayloadUsesStandardKeys() throws {
        let event = LifecycleEvent(
            event: .stepFailed, eventID: UUID(), occurredAt: Date(timeIntervalSince1970: 0), taskID: UUID(), stepID: UUID(),
            stepName: "end", attempt: 2, maxAttempts: 3, errorMessage: "boom", errorKind: .timeout, errorClass: "TimeoutError")
        #expect(event.missingKeys.isEmpty)
        let json = try JSONValue.parse(JSONEncoder().encode(event))
        for key in event.requiredKeys { #expect(json[key] != nil, "missing \(key)") }
        #expect(json["error_kind"] == "timeout")
    }

    @Test func missingKeysAreDetectedAndDecodingDoesNotCrash() throws {
        let partial = #"{"event":"step.completed","event_id":"7D444840-9DC0-11D1-B245-5FFDCE74FAD2","occurred_at":0}"#
        let event = try JSONDecoder().decode(LifecycleEvent.self, from: Data(partial.utf8))
        #expect(event.event == .stepCompleted)
        #expect(event.missingKeys == ["task_id", "step_id", "step_name", "attempt", "max_attempts", "duration_ms", "results"])
    }
}

@Suite struct LifecycleEventSelectionTests {
    @Test func eachModePublishesItsEventsAndTheAlwaysPublishedOnes() {
        let stepEvents = LifecycleEventName.all.filter(\.isStepEvent)
        let taskEvents = LifecycleEventName.all.filter { !$0.isStepEvent }
        #expect(LifecycleEventName.all.allSatisfy { LifecycleEventSelection.all.publishes($0) })
        #expect(taskEvents.allSatisfy { LifecycleEventSelection.task.publishes($0) })
        #expect(stepEvents.filter { LifecycleEventSelection.task.publishes($0) } == [.stepRetryScheduled])
        #expect(Set(LifecycleEventName.all.filter { LifecycleEventSelection.none.publishes($0) })
            == [.stepRetryScheduled, .taskRequestRejected])
    }
}
