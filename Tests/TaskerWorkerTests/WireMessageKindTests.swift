import Foundation
import TaskerAMQP
import TaskerCore
import TaskerWire
import Testing

/// The AMQP properties of every kind of message, as docs/wire-protocol.md specifies them
/// (schema_version 1). Pure: no broker.
@Suite struct WireMessageKindTests {
    let id = UUID()
    let schemaHeader: [String: AMQPFieldValue] = ["x-tasker-schema-version": .int(1)]

    @Test func typesAreTheWireNames() {
        #expect(WireMessageKind.taskRequest.type == "task.request")
        #expect(WireMessageKind.taskRequestReply.type == "task.request_reply")
        #expect(WireMessageKind.stepDispatch.type == "workflow.viable_steps_discovered")
        #expect(WireMessageKind.stepResult(.started).type == "step.started")
        #expect(WireMessageKind.stepResult(.completed).type == "step.completed")
        #expect(WireMessageKind.stepResult(.failed).type == "step.failed")
        #expect(WireMessageKind.event(.taskCompleted).type == "task.completed")
    }

    @Test func outboxRowsAreRecognisedByType() throws {
        let topology = WireTopology(prefix: "t")
        let dispatch = try OutboundMessage.dispatch(
            StepDispatch(
                taskID: id, stepID: id, stepName: "a", handler: "square", namespace: "ns", templateName: "t", templateVersion: "1.0.0",
                attempt: 1, maxAttempts: 1, context: [:], parentResults: [:], handlerConfig: [:], timeoutSeconds: 1,
                deadline: Date(), dispatchedAt: Date()),
            topology: topology, messageID: id)
        let event = try OutboundMessage.event(
            LifecycleEvent(event: .stepRetryScheduled, eventID: id, occurredAt: Date(), taskID: id), topology: topology)
        #expect(WireMessageKind(outboundType: dispatch.type) == .stepDispatch)
        #expect(WireMessageKind(outboundType: event.type) == .event(.stepRetryScheduled))
        for message in [dispatch, event] {
            #expect(WireMessageKind(outboundType: message.type).type == message.type)
        }
    }

    @Test func dispatchesResultsAndRequestsArePersistentAndMandatory() {
        let now = Date(timeIntervalSince1970: 1_700_000_000.75)
        for kind in [WireMessageKind.stepDispatch, .stepResult(.completed), .taskRequest] {
            #expect(kind.isMandatory && kind.isPersistent)
            #expect(
                kind.properties(messageID: id, timestamp: now)
                    == AMQPProperties(
                        contentType: "application/json", messageID: id.uuidString, type: kind.type, timestamp: 1_700_000_000,
                        persistent: true, headers: schemaHeader))
        }
        #expect(
            WireMessageKind.taskRequest.properties(messageID: id, correlationID: "c", replyTo: "q")
                == AMQPProperties(
                    contentType: "application/json", messageID: id.uuidString, correlationID: "c", replyTo: "q", type: "task.request",
                    persistent: true, headers: schemaHeader))
    }

    @Test func eventsAreNotMandatory() {
        let kind = WireMessageKind.event(.taskCompleted)
        #expect(!kind.isMandatory && kind.isPersistent)
    }

    @Test func repliesAreTransientAndCarryOnlyTheCorrelation() {
        let kind = WireMessageKind.taskRequestReply
        #expect(!kind.isMandatory && !kind.isPersistent)
        #expect(
            kind.properties(correlationID: "c")
                == AMQPProperties(
                    contentType: "application/json", correlationID: "c", type: "task.request_reply", persistent: false,
                    headers: schemaHeader))
    }
}
